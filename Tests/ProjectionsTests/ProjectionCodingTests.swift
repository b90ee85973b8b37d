import CaseDomain
import EventLog
import Foundation
import Testing
@testable import Projections

/// The projection's stored state and rows are written with generated straight-line JSON
/// code (tools/gen_messages.py "values"); what other programs read (schemas/storage.md) must
/// stay exactly what the `Codable` conformances write through Foundation's encoder.
@Suite struct ProjectionCodingTests {
    /// Case states folded from a synthetic history through every command kind, taken both at
    /// the end and at random points in between (open pauses and suspensions, open flags).
    static func foldedStates() throws -> [(id: String, state: CaseState)] {
        var history = SyntheticHistory()
        history.cases = 300
        history.commandsPerCase = 16
        history.seed = 77
        var states: [String: CaseState] = [:]
        var snapshots: [(String, CaseState)] = []
        var rng = SplitMix64(seed: 5)
        for append in try history.appends(catalog: shippedCatalog) where append.stream.hasPrefix("case-") {
            let id = String(append.stream.dropFirst(5))
            for e in append.events {
                let event = try CaseEvent.decode(type: e.type, schemaVersion: Int(e.schemaVersion), payload: e.payload)
                CaseDecider.evolve(&states[id, default: CaseDecider.initialState], event)
            }
            if rng.next(7) == 0, let s = states[id] { snapshots.append((id, s)) }
        }
        return states.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } + snapshots.map { (id: $0.0, state: $0.1) }
    }

    @Test("Stored case states, case states, rows and survey rows are Foundation's bytes and decode back equal")
    func sameBytesAsFoundation() throws {
        let states = try Self.foldedStates()
        let mine = MessageCoding.encoder()
        let decoder = MessageCoding.decoder()
        let reference = MessageCoding.foundationEncoder()
        let measures = CalendarMeasureProvider { name in try? shippedCatalog.calendar(named: name) }
        var seen = (clocks: 0, pauses: 0, suspensions: 0, flags: 0, cleared: 0, surveys: 0, answered: 0, attachments: 0,
                    closed: 0, tier: 0, incidents: 0, deadlines: 0)
        for (id, state) in states {
            // Where the finished clocks finished (made-up positions, one per target).
            var finishes = ClockFinishes()
            for clock in state.orderedClocks where clock.isFinished { finishes[clock.target] = UInt64(1_000 + (SLATarget.allCases.firstIndex(of: clock.target) ?? 0)) }
            let stored = StoredCaseState(state, finishes: finishes)
            let bytes = try mine.encodeBytes(stored)
            #expect(bytes == Array(try reference.encode(stored)), "stored state of \(id)")
            let back = try decoder.decode(StoredCaseState.self, from: bytes)
            #expect(back.state == state, "stored state of \(id) round-trips")
            #expect(back.finishes == finishes, "finish positions of \(id) round-trip")

            // A bare state keeps its clocks in the dictionary (an object keyed by target).
            #expect(try mine.encodeBytes(state) == Array(try reference.encode(state)), "state of \(id)")
            #expect(try decoder.decode(CaseState.self, from: try mine.encodeBytes(state)) == state)

            guard state.exists else { continue }
            let policy = try? shippedCatalog.policy(named: state.policyName, version: state.policyVersion)
            let row = CaseRow.make(state, id: id, measures: measures, policy: policy)
            let rowBytes = try mine.encodeBytes(row)
            #expect(rowBytes == Array(try reference.encode(row)), "row of \(id)")
            #expect(try decoder.decode(CaseRow.self, from: rowBytes) == row)
            for survey in state.surveys {
                let surveyRow = SurveyRow(
                    surveyID: survey.id, caseID: id, organisationID: state.organisationID, team: state.team, owner: state.owner,
                    priority: state.priority, contactID: survey.contactID, sentAt: survey.sentAt, answerBy: survey.answerBy,
                    answeredAt: survey.answeredAt, expiredAt: survey.expiredAt, knowledge: survey.knowledge,
                    communication: survey.communication, timeliness: survey.timeliness, comment: survey.comment)
                #expect(try mine.encodeBytes(surveyRow) == Array(try reference.encode(surveyRow)))
                #expect(try decoder.decode(SurveyRow.self, from: try mine.encodeBytes(surveyRow)) == surveyRow)
                if survey.answeredAt != nil { seen.answered += 1 }
            }
            seen.clocks += state.clocks.count
            seen.pauses += state.clocks.values.reduce(0) { $0 + $1.pauses.count }
            seen.suspensions += state.clocks.values.reduce(0) { $0 + $1.suspensions.count }
            seen.flags += state.flags.count
            seen.cleared += state.flags.filter { $0.clearedAt != nil }.count
            seen.surveys += state.surveys.count
            seen.attachments += state.attachments.count
            seen.closed += state.closeReason == nil ? 0 : 1
            seen.tier += state.tier == nil ? 0 : 1
            seen.incidents += state.linkedIncidents.count
            seen.deadlines += row.clocks.filter { $0.deadline != nil }.count
        }
        // The comparison only proves something for fields the history sets: it must set them all.
        #expect(states.count > 300)
        for (name, count) in [("clocks", seen.clocks), ("pauses", seen.pauses), ("suspensions", seen.suspensions),
                              ("flags", seen.flags), ("cleared flags", seen.cleared), ("surveys", seen.surveys),
                              ("answered surveys", seen.answered), ("attachments", seen.attachments),
                              ("close reasons", seen.closed), ("tiers", seen.tier), ("linked incidents", seen.incidents),
                              ("deadlines", seen.deadlines)] {
            #expect(count > 0, "the history never sets \(name)")
        }
    }

    @Test("A damaged stored state is refused with the JSON path of the damage, nested paths included")
    func damagedStateNamesThePath() throws {
        let states = try Self.foldedStates()
        guard let (_, state) = states.first(where: { !$0.state.clocks.isEmpty }) else {
            Issue.record("no state with clocks")
            return
        }
        let text = String(decoding: try MessageCoding.encoder().encodeBytes(StoredCaseState(state)), as: UTF8.self)
        func error(_ damaged: String) -> MessageCodingError? {
            do {
                _ = try MessageCoding.decoder().decode(StoredCaseState.self, from: Array(damaged.utf8))
                return nil
            } catch let e as MessageCodingError {
                return e
            } catch {
                Issue.record("unexpected error \(error)")
                return nil
            }
        }
        let priority = text.replacingOccurrences(of: "\"priority\":\"\(state.priority)\"", with: "\"priority\":7")
        #expect(priority != text)
        #expect(error(priority)?.path == "$.state.priority")
        let started = text.replacingOccurrences(of: "\"startedAt\":\"", with: "\"startedAt\":\"x")
        #expect(error(started)?.path == "$.clocks[0].startedAt")
        let duration = text.replacingOccurrences(of: "\"duration\":{", with: "\"duration\":{\"businessDays\":1,\"wallClockSeconds\":2,")
        #expect(error(duration)?.path == "$.clocks[0].duration")
        #expect(error(String(text.dropLast())) != nil)
        #expect(error("[]")?.path == "$")
        let finished = text.replacingOccurrences(of: "\"finishedAt\":[", with: "\"finishedAt\":[\"x\",")
        #expect(error(finished)?.path == "$.finishedAt[0]")
        // A state written before format 4 has no finish positions: it still decodes, with none.
        let format3 = text.replacing(#/,"finishedAt":\[[0-9,]*\]/#, with: "")
        #expect(format3 != text)
        let old = try MessageCoding.decoder().decode(StoredCaseState.self, from: Array(format3.utf8))
        #expect(old.state == state && old.finishes.isEmpty)
    }
}
