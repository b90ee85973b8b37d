import EventLog
import Foundation
import Testing

@Suite("UUID text")
struct UUIDFormattingTests {
    @Test("lowercasedString is Foundation's uuidString in lower case, for random and edge UUIDs")
    func matchesFoundation() {
        var ids = (0..<2_000).map { _ in UUID() }
        ids.append(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        ids.append(UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        for id in ids {
            #expect(id.lowercasedString == id.uuidString.lowercased())
        }
        #expect(UUID(uuidString: "0B6F3C1E-5A7D-4C2B-9E11-2F0A4D6B8C01")?.lowercasedString == "0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01")
    }
}
