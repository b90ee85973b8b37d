import EventLog
import Foundation
import Testing

@Suite("Instants as printed by replay and export")
struct FormatTests {
    @Test("formatMicros writes UTC with six fractional digits, before 1970 too, and beyond year 9999")
    func formatting() {
        #expect(formatMicros(0) == "1970-01-01T00:00:00.000000Z")
        #expect(formatMicros(1_772_442_000_000_001) == "2026-03-02T09:00:00.000001Z")
        #expect(formatMicros(-1) == "1969-12-31T23:59:59.999999Z")
        #expect(formatMicros(951_782_400_123_456) == "2000-02-29T00:00:00.123456Z")
        #expect(formatMicros(253_402_300_799_999_999) == "9999-12-31T23:59:59.999999Z")
        #expect(formatMicros(253_402_300_800_000_000) == "10000-01-01T00:00:00.000000Z")
    }
}
