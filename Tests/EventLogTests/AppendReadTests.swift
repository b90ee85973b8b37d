import Foundation
import Testing
@testable import EventLog

@Suite("Event log: append and read")
struct AppendReadTests {
    @Test("positions start at 1 with no gap; stream versions start at 0")
    func positionsAndVersions() async throws {
        let log = try openLog(temporaryDataDir())
        defer { log.close() }
        let a = try await log.append(to: "case-1", expectedVersion: .noStream, events: [event(), event()])
        let b = try await log.append(to: "case-2", events: [event()])
        let c = try await log.append(to: "case-1", expectedVersion: .exact(1), events: [event()])
        #expect(a.positions == [1, 2] && a.version == 1)
        #expect(b.positions == [3] && b.version == 0)
        #expect(c.positions == [4] && c.version == 2)
        #expect(try log.head().position == 4)
        #expect(try log.streamHead("case-1") == StreamHead(stream: "case-1", version: 2, lastPosition: 4))
        #expect(try log.streamHead("case-9") == nil)
    }

    @Test("a stream reads forward and backward from a version with a limit")
    func streamReads() async throws {
        let log = try openLog(temporaryDataDir())
        defer { log.close() }
        for i in 0..<10 {
            _ = try await log.append(to: "s", events: [event("e", "{\"i\":\(i)}")])
            _ = try await log.append(to: "other", events: [event()])
        }
        let forward = try log.readStream("s", from: 3, limit: 4)
        #expect(forward.map(\.version) == [3, 4, 5, 6])
        #expect(forward.allSatisfy { $0.stream == "s" })
        let backward = try log.readStream("s", from: 5, direction: .backward, limit: 3)
        #expect(backward.map(\.version) == [5, 4, 3])
        let newest = try log.readStream("s", from: .max, direction: .backward, limit: 2)
        #expect(newest.map(\.version) == [9, 8])
        #expect(try log.readStream("s", from: 10).isEmpty)
        #expect(try log.readStream("nope").isEmpty)
        // "s" must not match a longer stream name that starts with it.
        _ = try await log.append(to: "s2", events: [event()])
        #expect(try log.readStream("s").count == 10)
    }

    @Test("a scan lists each event's stream and version in position order, from a position, through a position")
    func scanStreamsAndVersions() async throws {
        let log = try openLog(temporaryDataDir())
        defer { log.close() }
        func streams(_ from: UInt64, _ through: UInt64 = .max) throws -> (events: [(stream: String, version: UInt64)], last: UInt64?) {
            var events: [(stream: String, version: UInt64)] = []
            let last = try log.scan(from: from, through: through) { events.append(($0.stream, $0.version)) }
            return (events, last)
        }
        #expect(try streams(1).events.isEmpty && streams(1).last == nil)
        _ = try await log.append(to: "case-1", events: [event(), event()])
        _ = try await log.append(to: "org-é", events: [event()])
        _ = try await log.append(to: "case-2", events: [event()])
        _ = try await log.append(to: "case-1", events: [event()])
        let all = try streams(1)
        let read = try log.readAll()
        #expect(all.events.map(\.stream) == read.map(\.stream) && all.events.map(\.version) == read.map(\.version))
        #expect(all.events.map(\.version) == [0, 1, 0, 0, 2] && all.last == 5)
        let some = try streams(2, 3)
        #expect(some.events.map(\.stream) == ["case-1", "org-é"] && some.last == 3)
        #expect(try streams(6).last == nil)
    }

    @Test("the whole log reads forward from a position; envelopes keep every field")
    func readAllAndEnvelope() async throws {
        let fixed: Int64 = 1_795_000_000_123_456
        let log = try openLog(temporaryDataDir()) { $0.clock = { fixed } }
        defer { log.close() }
        let id = UUID()
        let e = NewEvent(id: id, type: "case-opened", schemaVersion: 3, actor: "contact:ada", correlationId: "corr-1",
                         causationId: "cmd-7", metadata: Data("{\"channel\":\"portal\"}".utf8), payload: Data("{\"subject\":\"S\"}".utf8))
        _ = try await log.append(to: "case-1", events: [event()])
        _ = try await log.append(to: "case-1", events: [e])
        let all = try log.readAll(from: 2, limit: 10)
        #expect(all.count == 1)
        let r = try #require(all.first)
        #expect(r.id == id && r.stream == "case-1" && r.version == 1 && r.position == 2)
        #expect(r.type == "case-opened" && r.schemaVersion == 3 && r.actor == "contact:ada")
        #expect(r.correlationId == "corr-1" && r.causationId == "cmd-7")
        #expect(r.metadata == Data("{\"channel\":\"portal\"}".utf8) && r.payload == Data("{\"subject\":\"S\"}".utf8))
        #expect(r.recordedAtMicros == fixed)
        #expect(r.recordedAtISO8601 == "2026-11-18T11:06:40.123456Z")
        #expect(try log.event(id: id)?.position == 2)
        #expect(try log.head().hash == r.hash)
    }

    @Test("recordedAt never goes backwards along positions, even if the clock does")
    func recordedAtMonotonic() async throws {
        let times = ClockScript([5_000_000, 3_000_000, 9_000_000])
        let log = try openLog(temporaryDataDir()) { $0.clock = { times.next() } }
        defer { log.close() }
        for _ in 0..<3 { _ = try await log.append(to: "s", events: [event()]) }
        #expect(try log.readAll().map(\.recordedAtMicros) == [5_000_000, 5_000_000, 9_000_000])
    }

    @Test("expected version: no-stream and exact are checked; a conflict reports the current version")
    func expectedVersion() async throws {
        let log = try openLog(temporaryDataDir())
        defer { log.close() }
        _ = try await log.append(to: "s", expectedVersion: .noStream, events: [event()])
        let again = await #expect(throws: EventLogError.self) {
            try await log.append(to: "s", expectedVersion: .noStream, events: [event()])
        }
        #expect(again?.code == .wrongExpectedVersion && again?.currentVersion == 0)
        let stale = await #expect(throws: EventLogError.self) {
            try await log.append(to: "s", expectedVersion: .exact(5), events: [event()])
        }
        #expect(stale?.code == .wrongExpectedVersion && stale?.currentVersion == 0)
        #expect(stale?.message.contains("version 0") == true)
        let missing = await #expect(throws: EventLogError.self) {
            try await log.append(to: "t", expectedVersion: .exact(0), events: [event()])
        }
        #expect(missing?.currentVersion == nil && missing?.message.contains("does not exist") == true)
        #expect(try log.head().position == 1)
    }

    @Test("malformed appends are refused before anything is written")
    func invalidInput() async throws {
        let log = try openLog(temporaryDataDir())
        defer { log.close() }
        let cases: [(String, [NewEvent], String)] = [
            ("", [event()], "stream name"),
            (String(repeating: "x", count: 300), [event()], "stream name"),
            ("bad\u{0}name", [event()], "control character"),
            ("s", [], "at least one event"),
            ("s", [event("has space")], "event type"),
            ("s", [event("t", "{not json")], "not valid UTF-8 JSON"),
            ("s", [NewEvent(type: "t", metadata: Data("[1]".utf8), payload: Data("{}".utf8))], "metadata"),
        ]
        for (stream, events, fragment) in cases {
            let error = await #expect(throws: EventLogError.self) { try await log.append(to: stream, events: events) }
            #expect(error?.code == .invalidInput)
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "") should mention \(fragment)")
        }
        let id = UUID()
        let twice = await #expect(throws: EventLogError.self) {
            try await log.append(to: "s", events: [event(id: id), event(id: id)])
        }
        #expect(twice?.message.contains("appears twice") == true)
        #expect(try log.head().position == 0)
    }

    @Test("a multi-stream append is atomic: one conflicting part means nothing is appended")
    func atomicBatch() async throws {
        let log = try openLog(temporaryDataDir())
        defer { log.close() }
        _ = try await log.append(to: "b", events: [event()])
        let error = await #expect(throws: EventLogError.self) {
            try await log.append([
                StreamAppend(stream: "a", expectedVersion: .noStream, events: [event()]),
                StreamAppend(stream: "b", expectedVersion: .noStream, events: [event()]),
            ])
        }
        #expect(error?.stream == "b")
        #expect(try log.head().position == 1)
        #expect(try log.streamHead("a") == nil)
        let ok = try await log.append([
            StreamAppend(stream: "a", expectedVersion: .noStream, events: [event()]),
            StreamAppend(stream: "a", expectedVersion: .exact(0), events: [event()]),
            StreamAppend(stream: "b", expectedVersion: .exact(0), events: [event()]),
        ])
        #expect(ok.map(\.positions) == [[2], [3], [4]])
        #expect(ok.map(\.version) == [0, 1, 1])
    }

    @Test("the open format: the worked example of schemas/storage.md, byte for byte")
    func storageWorkedExample() throws {
        let e = NewEvent(id: try #require(UUID(uuidString: "0b6f3c1e-5a7d-4c2b-9e11-2f0a4d6b8c01")), type: "case-opened",
                         schemaVersion: 1, actor: "contact:ada", metadata: Data("{}".utf8),
                         payload: Data("{\"subject\":\"Expense report stuck\"}".utf8))
        let canonical = RecordCoding.canonicalBytes(position: 1, version: 0, event: e, stream: "case-1042",
                                                    recordedAtMicros: 1_795_000_000_000_000)
        let hex = canonical.map { String(format: "%02x", $0) }.joined()
        let doc = try String(contentsOfFile: repositoryRoot() + "/schemas/storage.md", encoding: .utf8)
        let docHex = try #require(doc.components(separatedBy: "As one hex string:\n\n```\n").last?
            .components(separatedBy: "```").first).filter(\.isHexDigit)
        #expect(canonical.count == 140)
        #expect(hex == docHex)
        let hash = canonical.withUnsafeBytes { RecordCoding.chainHash(previous: .genesis, canonical: $0) }
        #expect(hash.hex == "16bc736c81b7a0e9dc373b193b9600599b101abd9b00c65b67f3e7b559d5daa6")
        #expect(doc.contains(hash.hex))
        // The writer's one-buffer record is that hash followed by the canonical bytes.
        let record = RecordCoding.record(previous: .genesis, position: 1, version: 0, event: e, stream: "case-1042",
                                         recordedAtMicros: 1_795_000_000_000_000)
        #expect(record.hash == hash && record.value == hash.bytes + canonical)
        #expect(RecordCoding.streamIndexKey("case-1042", version: 0).map { String(format: "%02x", $0) }.joined()
            == "636173652d31303432" + "00" + "0000000000000000")
    }
}

/// A clock that returns scripted values, then repeats the last.
final class ClockScript: Sendable {
    private let values: Mutex<[Int64]>
    init(_ values: [Int64]) { self.values = Mutex(values) }
    func next() -> Int64 {
        values.withLock { v in v.count > 1 ? v.removeFirst() : v[0] }
    }
}

/// The repository's root directory (two levels above this file's folder).
func repositoryRoot(_ file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}

import Synchronization
