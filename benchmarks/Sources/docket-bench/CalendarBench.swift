import CaseDomain
import Foundation

/// Business calendars: SLA deadline computations per second (issue 3 requires >= 200 k/s).
func calendarSuite() -> BenchSuite {
    BenchSuite(name: "Calendar") {
        let baseline = baselineSum()
        report(baseline)
        let catalog = try PolicyCatalog.shipped()
        let calendars = catalog.calendars
        // A fixed mix of start instants (2024-2027, spread over day and night), targets
        // (0.5 h to 10 business days) and calendars, prepared before timing.
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let base = 1_704_067_200.0 // 2024-01-01T00:00:00Z
        let targets: [TargetDuration] = [.businessTime(seconds: 1800), .businessTime(seconds: 3600), .businessTime(seconds: 4 * 3600),
                                         .businessTime(seconds: 8 * 3600), .businessDays(1), .businessDays(2), .businessDays(5),
                                         .businessDays(10)]
        let n = 1 << 16
        let starts = (0..<n).map { _ in Date(timeIntervalSince1970: base + Double(next() % (4 * 365 * 86_400))) }
        let picks = (0..<n).map { _ in (Int(next() % UInt64(calendars.count)), Int(next() % UInt64(targets.count))) }
        let clocks = (0..<n).map { i in SLAClock(target: .response, duration: targets[picks[i].1], startedAt: starts[i]) }

        var sink = 0.0
        let count = 1_000_000
        let adding = measure("calendar.adding (business-time deadline)", count: count) {
            for i in 0..<count {
                let k = i & (n - 1)
                let cal = calendars[picks[k].0]
                let s = targets[picks[k].1].seconds(standardDaySeconds: cal.standardDaySeconds)
                sink += cal.adding(seconds: s, to: starts[k]).timeIntervalSince1970
            }
        }
        report(adding, baseline: baseline, unit: "deadlines")
        let clockCount = 500_000
        let viaClock = measure("SLAClock.deadline (calendar measure)", count: clockCount) {
            for i in 0..<clockCount {
                let k = i & (n - 1)
                sink += clocks[k].deadline(measure: calendars[picks[k].0])?.timeIntervalSince1970 ?? 0
            }
        }
        report(viaClock, baseline: baseline, unit: "deadlines")
        let span = measure("calendar.seconds (elapsed business time, 3 days)", count: count) {
            for i in 0..<count {
                let k = i & (n - 1)
                sink += Double(calendars[picks[k].0].seconds(from: starts[k], to: starts[k].addingTimeInterval(3 * 86_400)))
            }
        }
        report(span, baseline: baseline, unit: "spans")
        if sink == 42 { print("") }
    }
}
