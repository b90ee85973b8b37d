import Foundation
import Testing
@testable import CaseDomain

/// Property tests over many seeded random instants (SplitMix64, so failures reproduce).
@Suite("Business-time properties (R4.1, R4.5)")
struct CalendarPropertyTests {
    static let names = ["americas", "apac", "europe", "uk", "sweden"]

    /// A random instant in 2019-2031, sometimes with a fractional second.
    func instant(_ rng: inout SplitMix64) -> Date {
        let lo = utc(2019, 1, 1).timeIntervalSince1970, hi = utc(2031, 1, 1).timeIntervalSince1970
        let whole = (lo + Double(rng.next() % UInt64(hi - lo))).rounded(.down)
        return Date(timeIntervalSince1970: rng.next() % 4 == 0 ? whole + 0.25 : whole)
    }

    func amount(_ rng: inout SplitMix64) -> Int64 {
        switch rng.next() % 4 {
        case 0: return 0
        case 1: return Int64(rng.next() % 3600)
        case 2: return Int64(rng.next() % (40 * 3600))
        default: return Int64(rng.next() % (400 * 3600))
        }
    }

    @Test("R4.1 adding then measuring business time round-trips", arguments: names)
    func roundTrip(_ name: String) throws {
        let cal = try shippedCalendar(name)
        var rng = SplitMix64(seed: 0xC0FFEE ^ UInt64(name.utf8.count))
        for _ in 0..<3000 {
            let t = instant(&rng), s = amount(&rng)
            let due = cal.adding(seconds: s, to: t)
            #expect(due >= t)
            #expect(cal.seconds(from: t, to: due) == s, "\(name) \(t) + \(s)")
            if s > 0 {
                // The deadline is the first instant at which s seconds have elapsed.
                #expect(cal.seconds(from: t, to: due.addingTimeInterval(-1)) < s)
            }
        }
    }

    @Test("R4.1 deadlines are monotonic in the start time", arguments: names)
    func monotonic(_ name: String) throws {
        let cal = try shippedCalendar(name)
        var rng = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let a = instant(&rng), b = instant(&rng), s = amount(&rng)
            let (early, late) = a <= b ? (a, b) : (b, a)
            #expect(cal.adding(seconds: s, to: early) <= cal.adding(seconds: s, to: late))
        }
    }

    @Test("R4.5 adding a pause never moves a deadline earlier", arguments: names)
    func pauseNeverEarlier(_ name: String) throws {
        let cal = try shippedCalendar(name)
        var rng = SplitMix64(seed: 7)
        for _ in 0..<1500 {
            let start = instant(&rng)
            let duration = TargetDuration.businessTime(seconds: 1 + amount(&rng))
            let plain = SLAClock(target: .response, duration: duration, startedAt: start)
            guard let before = plain.deadline(measure: cal) else { Issue.record("no deadline"); continue }
            var paused = plain
            let p = start.addingTimeInterval(Double(rng.next() % (10 * 86_400)))
            paused.pause(at: p)
            paused.resume(at: p.addingTimeInterval(Double(rng.next() % (5 * 86_400))))
            guard let after = paused.deadline(measure: cal) else { Issue.record("no deadline"); continue }
            #expect(after >= before, "\(name) start \(start) pause \(p)")
        }
    }

    @Test("R4.1 counted time equals the sum of the days' opening instants (reference check)", arguments: names)
    func matchesDayByDay(_ name: String) throws {
        let cal = try shippedCalendar(name)
        var rng = SplitMix64(seed: 99)
        for _ in 0..<300 {
            let a = instant(&rng)
            let b = a.addingTimeInterval(Double(rng.next() % (12 * 86_400)))
            var expected: Int64 = 0
            var d = cal.localDate(of: a)
            let last = cal.localDate(of: b)
            while d <= last {
                for iv in cal.day(on: d).instants {
                    let s = max(iv.start, a), e = min(iv.end, b)
                    if e > s { expected += Int64(e.timeIntervalSince(s).rounded(.down)) }
                }
                d = d.adding(days: 1)
            }
            let got = cal.seconds(from: a, to: b)
            // Fractional starts can lose at most one second in the per-interval flooring.
            #expect(abs(got - expected) <= 1, "\(name) \(a) -> \(b): \(got) vs \(expected)")
        }
    }

    @Test("Instants outside the precomputed years are still answered correctly")
    func outsideCoveredYears() throws {
        let cal = try shippedCalendar("sweden")
        // Mon 2150-01-05? Use the day table: pick the first open day of June 2150.
        var d = date(2150, 6, 1)
        while !cal.day(on: d).kind.isOpen { d = d.adding(days: 1) }
        let opening = try #require(cal.day(on: d).instants.first)
        #expect(cal.adding(seconds: 0, to: opening.start.addingTimeInterval(-3600)) == opening.start)
        #expect(cal.adding(seconds: 1800, to: opening.start) == opening.start.addingTimeInterval(1800))
        #expect(cal.seconds(from: opening.start, to: opening.end) == Int64(opening.duration))
        // Midsummer Eve 2150 (the Friday from 19 to 25 June) is closed.
        let eve = (19...25).map { date(2150, 6, $0) }.first { $0.weekday == .friday }
        #expect(eve.map { cal.day(on: $0).name } == "Midsummer Eve")
        // Counting across the edge of the covered years agrees with day-by-day sums.
        let edge = cal.seconds(from: utc(2100, 12, 20), to: utc(2101, 1, 20))
        #expect(edge > 0 && edge < 31 * 6 * 3600)
        #expect(cal.adding(seconds: edge, to: utc(2100, 12, 20)) <= utc(2101, 1, 20))
    }
}
