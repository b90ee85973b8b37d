import Foundation
import Testing
@testable import CaseDomain

/// SLAClock with the shipped calendars and policies (DOMAIN.md §4.2).
@Suite("SLA clocks with real calendars (R4.x)")
struct SLAClockCalendarTests {
    func resolved(_ policy: String, _ region: String? = nil, _ priority: String, _ target: SLATarget) throws -> ResolvedTarget {
        try shippedCatalog().resolve(policy: policy, region: region, priority: priority, target: target)
    }

    @Test("R4.1 a case opened outside business hours starts its clock at the next opening")
    func opensOutsideHours() throws {
        let r = try resolved("concur-standard", "americas", "P2", .response)
        // Sat 2024-03-02 10:00 PST -> Mon 05:00 PST (13:00Z) + 4 h -> 17:00Z.
        let clock = SLAClock(target: .response, duration: r.duration, startedAt: utc(2024, 3, 2, 18))
        #expect(clock.deadline(measure: r.measure) == utc(2024, 3, 4, 17))
        #expect(clock.elapsedSeconds(at: utc(2024, 3, 4, 13), measure: r.measure) == 0)
        #expect(clock.elapsedSeconds(at: utc(2024, 3, 4, 14), measure: r.measure) == 3600)
    }

    @Test("R4.2 a wall-clock target counts every hour, day or night")
    func wallClock() throws {
        let r = try resolved("concur-standard", "apac", "P1", .resolution)
        #expect(r.measure is WallClockTime)
        #expect(r.duration == .wallClock(seconds: 4 * 3600))
        let clock = SLAClock(target: .resolution, duration: r.duration, startedAt: utc(2024, 3, 2, 22))
        #expect(clock.deadline(measure: r.measure) == utc(2024, 3, 3, 2))
    }

    @Test("R4.3 business days count N x standardDayHours of business time (uk, 8.5 h)")
    func businessDays() throws {
        let r = try resolved("concep-sla", nil, "sev2", .resolution)
        #expect(r.calendar.name == "uk")
        #expect(r.targetSeconds == 5 * (8 * 3600 + 1800))
        // Mon 2024-03-04 13:00 GMT + 5 business days -> Mon 2024-03-11 13:00 GMT.
        let clock = SLAClock(target: .resolution, duration: r.duration, startedAt: utc(2024, 3, 4, 13))
        #expect(clock.deadline(measure: r.measure) == utc(2024, 3, 11, 13))
        // sev1 2 business days from Maundy Thursday 09:00 GMT: Thu, then (Good Friday, Easter
        // Monday closed, clocks go forward) Tue 2 Apr 17:30 BST = 16:30Z.
        let sev1 = try resolved("concep-sla", nil, "sev1", .resolution)
        let easter = SLAClock(target: .resolution, duration: sev1.duration, startedAt: utc(2024, 3, 28, 9))
        #expect(easter.deadline(measure: sev1.measure) == utc(2024, 4, 2, 16, 30))
    }

    @Test("R4.5 a weekend spent waiting for the customer costs and credits no business time")
    func pauseOverWeekend() throws {
        let r = try resolved("concur-standard", "americas", "P2", .response)
        let start = utc(2024, 3, 1, 22) // Fri 14:00 PST
        let plain = SLAClock(target: .response, duration: r.duration, startedAt: start)
        #expect(plain.deadline(measure: r.measure) == utc(2024, 3, 4, 15)) // Mon 07:00 PST
        // Paused from Friday after closing to Monday before opening: the same deadline.
        var weekend = plain
        weekend.pause(at: utc(2024, 3, 2, 0, 30), reason: "awaiting-customer")
        #expect(weekend.deadline(measure: r.measure) == nil)
        #expect(weekend.state(at: utc(2024, 3, 3), measure: r.measure).paused)
        weekend.resume(at: utc(2024, 3, 4, 12))
        #expect(weekend.deadline(measure: r.measure) == plain.deadline(measure: r.measure))
        // Paused from Fri 15:00 to Mon 10:00 PST: 1 h used, 3 h left from Mon 10:00 -> 13:00 PST.
        var business = plain
        business.pause(at: utc(2024, 3, 1, 23))
        business.resume(at: utc(2024, 3, 4, 18))
        #expect(business.deadline(measure: r.measure) == utc(2024, 3, 4, 21))
        #expect(business.elapsedSeconds(at: utc(2024, 3, 4, 18), measure: r.measure) == 3600)
        #expect(business.pauses.count == 1)
    }

    @Test("R4.6 a suspended resolution clock has no deadline until resumed")
    func suspension() throws {
        let r = try resolved("concur-standard", "europe", "P3", .resolution)
        // Mon 2024-03-04 09:00 CET (08:00Z) + 24 business hours (9 h/day) -> Wed 15:00 CET.
        var clock = SLAClock(target: .resolution, duration: r.duration, startedAt: utc(2024, 3, 4, 8))
        #expect(clock.deadline(measure: r.measure) == utc(2024, 3, 6, 14))
        clock.suspend(at: utc(2024, 3, 4, 12), reason: "engineering")
        #expect(clock.deadline(measure: r.measure) == nil)
        let state = clock.state(at: utc(2024, 3, 5, 12), measure: r.measure)
        #expect(state.suspended && state.deadline == nil && state.elapsedSeconds == 4 * 3600)
        // Resumed Tue 13:00 CET: suspended 13:00 Mon -> 13:00 Tue = 9 business hours.
        clock.endSuspension(at: utc(2024, 3, 5, 12))
        #expect(clock.deadline(measure: r.measure) == utc(2024, 3, 7, 14))
    }

    @Test("R4.5 R4.6 overlapping pause and suspension credit the stopped time once")
    func overlapCountsOnce() throws {
        let r = try resolved("concur-standard", "americas", "P3", .resolution)
        var clock = SLAClock(target: .resolution, duration: r.duration, startedAt: utc(2024, 3, 4, 13)) // Mon 05:00 PST
        clock.suspend(at: utc(2024, 3, 4, 14), reason: "engineering") // 06:00
        clock.pause(at: utc(2024, 3, 4, 15)) // 07:00
        clock.endSuspension(at: utc(2024, 3, 4, 16)) // 08:00
        clock.resume(at: utc(2024, 3, 4, 17)) // 09:00
        // 05:00-10:00 is 5 h; 06:00-09:00 stopped -> 2 h elapsed.
        #expect(clock.elapsedSeconds(at: utc(2024, 3, 4, 18), measure: r.measure) == 2 * 3600)
        // 24 h target: 23 h left at 09:00 Mon -> Mon 7 h, Tue 11 h, Wed 5 h -> Wed 10:00 PST.
        #expect(clock.deadline(measure: r.measure) == utc(2024, 3, 6, 18))
    }

    @Test("R4.7 a priority change recomputes the deadline; elapsed time still counts")
    func priorityChange() throws {
        let p3 = try resolved("concur-standard", "americas", "P3", .response)
        let p2 = try resolved("concur-standard", "americas", "P2", .response)
        let p1 = try resolved("concur-standard", "americas", "P1", .response)
        var clock = SLAClock(target: .response, duration: p3.duration, startedAt: utc(2024, 3, 4, 13)) // Mon 05:00 PST
        #expect(clock.deadline(measure: p3.measure) == utc(2024, 3, 4, 21)) // 13:00 PST
        let changeAt = utc(2024, 3, 4, 15) // 07:00 PST: 2 h elapsed
        clock.duration = p2.duration
        #expect(clock.deadline(measure: p2.measure) == utc(2024, 3, 4, 17)) // 09:00 PST
        #expect(clock.state(at: changeAt, measure: p2.measure).remainingSeconds == 2 * 3600)
        clock.duration = p1.duration // already used up: the deadline was 06:00 PST, in the past
        #expect(clock.deadline(measure: p1.measure) == utc(2024, 3, 4, 14))
        #expect(clock.state(at: changeAt, measure: p1.measure).remainingSeconds == -3600)
    }

    @Test("R3.5 at-risk at 75 % of a 2 business-hour response (timecare-se, Swedish lunch)")
    func atRisk() throws {
        let r = try resolved("timecare-se", "anywhere", "P1", .response)
        #expect(r.calendar.name == "sweden")
        // Mon 2024-03-04 11:00 CET: 1 h to lunch, then 30 min -> 13:30 CET = 12:30Z; deadline 14:00 CET.
        let clock = SLAClock(target: .response, duration: r.duration, startedAt: utc(2024, 3, 4, 10))
        #expect(clock.atRiskInstant(share: r.policy.atRiskShare, measure: r.measure) == utc(2024, 3, 4, 12, 30))
        #expect(clock.deadline(measure: r.measure) == utc(2024, 3, 4, 13))
    }

    @Test("R4.9 a running clock picks up a calendar change (new closure)")
    func calendarChange() throws {
        let r = try resolved("timecare-se", nil, "P2", .response)
        let clock = SLAClock(target: .response, duration: r.duration, startedAt: utc(2024, 3, 4, 14)) // Mon 15:00 CET
        #expect(clock.deadline(measure: r.measure) == utc(2024, 3, 5, 9))
        let catalog = try shippedCatalog().adding(r.calendar.addingClosures([Closure(from: date(2024, 3, 5), to: date(2024, 3, 5), name: "Training")]))
        let changed = try catalog.resolve(policy: "timecare-se", region: nil, priority: "P2", target: .response)
        #expect(changed.calendar.version == 2)
        #expect(clock.deadline(measure: changed.measure) == utc(2024, 3, 6, 9))
        // The policy version a case opened under can still be asked for (R4.9).
        #expect(try catalog.policy(named: "timecare-se", version: 1).version == 1)
    }

    @Test("§4 a missing target, an unknown priority and a missing region are clear errors")
    func resolveErrors() throws {
        let catalog = try shippedCatalog()
        #expect(throws: PolicyError.noTarget(policy: "concur-standard", target: .restoration, priority: "P1")) {
            try catalog.resolve(policy: "concur-standard", region: "europe", priority: "P1", target: .restoration)
        }
        #expect(PolicyError.noTarget(policy: "concur-standard", target: .restoration, priority: "P1").description
                == "policy concur-standard has no restoration target for P1")
        do {
            _ = try catalog.resolve(policy: "concur-standard", region: nil, priority: "P1", target: .response)
            Issue.record("expected a region error")
        } catch let e as PolicyError {
            #expect(e.description.contains("americas, apac, europe"))
        }
        #expect(throws: PolicyError.self) { try catalog.resolve(policy: "concep-sla", region: nil, priority: "P1", target: .response) }
        #expect(throws: PolicyError.self) { try catalog.resolve(policy: "nope", region: nil, priority: "P1", target: .response) }
        #expect(throws: PolicyError.noTarget(policy: "concep-sla", target: .update, priority: "sev3")) {
            try catalog.resolve(policy: "concep-sla", region: nil, priority: "sev3", target: .update)
        }
    }
}
