import CaseDomain
import EventLog
import Foundation
import Testing
@testable import CommandHandling

/// R4.9 in a batch (`docket import`): a policy version recorded by a command of the batch is
/// used by the batch's later commands, and is in force for the handler once the batch commits;
/// a calendar version recorded in a batch is in force from the position it was appended at.
@Suite struct CatalogVersionBatchTests {
    static func timecare(version: Int, hours: Int) throws -> String {
        let file = try #require(PolicyCatalog.shippedPolicyFiles.first { $0.name.hasSuffix("/timecare-se.json") })
        var json = try #require(try JSONSerialization.jsonObject(with: file.data) as? [String: Any])
        json["version"] = version
        let target: [String: Any] = ["response": ["businessHours": hours]]
        json["targets"] = ["P1": target, "P2": target, "P3": target]
        return String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
    }

    static func sweden(version: Int) throws -> String {
        let file = try #require(PolicyCatalog.shippedCalendarFiles.first { $0.name.hasSuffix("/sweden.json") })
        var json = try #require(try JSONSerialization.jsonObject(with: file.data) as? [String: Any])
        json["version"] = version
        json["closures"] = [["from": "2026-12-28", "name": "between the years"]]
        return String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func aVersionRecordedInABatchAppliesToItsLaterCommandsAndAfterCommit() async throws {
        let desk = try Desk()
        defer { desk.log.close() }
        try await desk.organisation("acme", contacts: ["ada", "bo"])
        let batch = desk.handler.beginBatch()
        try desk.decide(batch, "record-policy-version", "policy-timecare-se",
                        ["name": "timecare-se", "version": 2, "content": try Self.timecare(version: 2, hours: 4)])
        // Not in force for the handler before the batch is appended.
        #expect(try desk.handler.catalog.policy(named: "timecare-se").version == 1)
        try desk.decide(batch, "open-case", "case-1", [
            "caseID": "1", "organisationID": "acme", "contactID": "ada", "subject": "Export fails", "description": "Steps: ...",
            "topic": "scheduling", "caseType": "support", "subType": "problem", "severity": "P2", "region": "sweden",
            "site": "ward-4", "product": "TimeCare", "stage": "production", "callMe": false, "cc": [], "channel": "portal"])
        #expect(try batch.caseState("case-1").state.policyVersion == 2)
        try desk.decide(batch, "record-calendar-version", "calendar-sweden",
                        ["name": "sweden", "version": 2, "content": try Self.sweden(version: 2), "reason": "holidays"])
        try await batch.commit()
        #expect(try desk.handler.catalog.policy(named: "timecare-se").version == 2)
        // The calendar version is in force from its event's position: rows and replays of
        // events before it keep version 1 (R4.9).
        let recorded = try #require(try desk.log.readStream("calendar-sweden").first)
        #expect(recorded.position > 1)
        #expect(desk.handler.catalog.calendarInForce(named: "sweden", version: 2) == recorded.position)
        #expect(desk.handler.catalog.calendar(named: "sweden", asOf: recorded.position - 1)?.version == 1)
        let opened = try #require(try desk.log.readStream("case-1").first)
        let payload = try JSONSerialization.jsonObject(with: opened.payload) as? [String: Any]
        #expect(payload?["policyVersion"] as? Int == 2)
    }
}
