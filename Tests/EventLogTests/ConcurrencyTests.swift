import Foundation
import Synchronization
import Testing
@testable import EventLog

@Suite("Event log: concurrency, idempotency, subscriptions")
struct ConcurrencyTests {
    @Test("64 tasks racing on one stream with exact expected versions: one winner per version, no gap")
    func racingWriters() async throws {
        let log = try openLog(temporaryDataDir())
        defer { log.close() }
        let winners = Shared<[UInt64: Int]>([:])
        let conflicts = Shared(0)
        let rounds = 20
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<64 {
                group.addTask {
                    for _ in 0..<rounds {
                        let current = (try? log.streamHead("race"))?.version
                        let expected: ExpectedVersion = current.map { .exact($0) } ?? .noStream
                        do {
                            let result = try await log.append(to: "race", expectedVersion: expected, events: [event("won", "{\"task\":\(task)}")])
                            winners.withLock { w in
                                #expect(w[result.version] == nil, "version \(result.version) won twice")
                                w[result.version] = task
                            }
                        } catch let error as EventLogError {
                            #expect(error.code == .wrongExpectedVersion)
                            conflicts.withLock { $0 += 1 }
                        } catch {
                            Issue.record("unexpected error \(error)")
                        }
                    }
                }
            }
        }
        let won = winners.withLock { $0 }
        let events = try log.readStream("race", limit: 10_000)
        #expect(won.count + conflicts.withLock { $0 } == 64 * rounds)
        #expect(events.map(\.version) == Array(0..<UInt64(won.count)))
        #expect(events.map(\.position) == Array(1...UInt64(won.count)))
        // The event stored at each version is the one whose append was told it won that version.
        for e in events {
            let task = try #require(JSONSerialization.jsonObject(with: e.payload) as? [String: Int])["task"]
            #expect(won[e.version] == task)
        }
        #expect(conflicts.withLock { $0 } > 0)
    }

    @Test("group commit: concurrent appends share transactions, and one caller's conflict fails only that caller")
    func groupCommit() async throws {
        let log = try openLog(temporaryDataDir())
        defer { log.close() }
        _ = try await log.append(to: "taken", events: [event()])
        let results = await withTaskGroup(of: (Int, Result<AppendResult, EventLogError>).self) { group in
            for i in 0..<400 {
                group.addTask {
                    let stream = i == 200 ? "taken" : "s-\(i)"
                    do {
                        return (i, .success(try await log.append(to: stream, expectedVersion: .noStream, events: [event()])))
                    } catch {
                        return (i, .failure(error as? EventLogError ?? EventLogError(.storage, "\(error)")))
                    }
                }
            }
            var all: [Int: Result<AppendResult, EventLogError>] = [:]
            for await (i, r) in group { all[i] = r }
            return all
        }
        let failures = results.filter { if case .failure = $0.value { true } else { false } }
        #expect(failures.keys.sorted() == [200])
        #expect(try log.head().position == 400)
        let stats = log.statistics
        #expect(stats.events == 400)
        #expect(stats.batches < 400, "400 concurrent appends should have been coalesced, got \(stats.batches) transactions")
        let positions = results.values.compactMap { try? $0.get().positions[0] }.sorted()
        #expect(positions == Array(2...400))
    }

    @Test("idempotency holds across restarts: same id and content returns the original positions; other content is refused, never written over (R9.1)")
    func idempotencyAcrossRestart() async throws {
        let dir = temporaryDataDir()
        let ids = [UUID(), UUID()]
        var original: AppendResult
        do {
            let log = try openLog(dir)
            _ = try await log.append(to: "x", events: [event()])
            original = try await log.append(to: "case-7", events: [event("a", "{\"n\":1,\"m\":2}", id: ids[0]), event("b", "{}", id: ids[1])])
            _ = try await log.append(to: "case-7", events: [event()])
            log.close()
        }
        let log = try openLog(dir)
        defer { log.close() }
        // Same content (JSON key order does not matter) after a restart: nothing appended.
        let retry = try await log.append(to: "case-7", expectedVersion: .noStream,
                                         events: [event("a", "{\"m\":2, \"n\":1}", id: ids[0]), event("b", "{}", id: ids[1])])
        #expect(retry.duplicate)
        #expect(retry.positions == original.positions && retry.version == original.version)
        #expect(try log.head().position == 4)
        let changed = await #expect(throws: EventLogError.self) {
            try await log.append(to: "case-7", events: [event("a", "{\"n\":2}", id: ids[0]), event("b", "{}", id: ids[1])])
        }
        #expect(changed?.code == .duplicateEventId && changed?.position == 2)
        let partial = await #expect(throws: EventLogError.self) {
            try await log.append(to: "case-7", events: [event("a", "{\"m\":2,\"n\":1}", id: ids[0]), event()])
        }
        #expect(partial?.code == .partialDuplicate)
        let otherStream = await #expect(throws: EventLogError.self) {
            try await log.append(to: "case-8", events: [event("a", "{\"m\":2,\"n\":1}", id: ids[0]), event("b", "{}", id: ids[1])])
        }
        #expect(otherStream?.code == .duplicateEventId)
        #expect(try log.head().position == 4)
        // The refused appends changed nothing: the event keeps the payload first stored.
        #expect(try log.readStream("case-7", limit: 10).first.map { String(decoding: $0.payload, as: UTF8.self) } == "{\"n\":1,\"m\":2}")
    }

    @Test("a subscription catches up, then follows live appends with no gap and no duplicate")
    func subscriptionCatchUpThenLive() async throws {
        let log = try openLog(temporaryDataDir())
        defer { log.close() }
        for i in 0..<150 { _ = try await log.append(to: "pre-\(i % 7)", events: [event()]) }
        let total = 150 + 8 * 100
        let reader = Task {
            var positions: [UInt64] = []
            for try await e in log.subscribe(from: 1, batchSize: 64) {
                positions.append(e.position)
                if positions.count == total { break }
            }
            return positions
        }
        await withTaskGroup(of: Void.self) { group in
            for w in 0..<8 {
                group.addTask {
                    for i in 0..<100 { _ = try? await log.append(to: "live-\(w)", events: [event("e", "{\"i\":\(i)}")]) }
                }
            }
        }
        let positions = try await reader.value
        #expect(positions == Array(1...UInt64(total)))
    }

    @Test("a subscription from a later position starts there, and ends when its task is cancelled")
    func subscriptionFromPositionAndCancel() async throws {
        let log = try openLog(temporaryDataDir())
        defer { log.close() }
        for _ in 0..<10 { _ = try await log.append(to: "s", events: [event()]) }
        let seen = Shared<[UInt64]>([])
        let task = Task {
            for try await e in log.subscribe(from: 8) { seen.withLock { $0.append(e.position) } }
            return true
        }
        while seen.withLock({ $0.count }) < 3 { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        #expect(try await task.value)
        #expect(seen.withLock { $0 } == [8, 9, 10])
    }

    @Test("map growth: appends grow the map; at its maximum the append fails clearly and nothing acknowledged is lost")
    func mapGrowthInTheLog() async throws {
        let dir = temporaryDataDir()
        let log = try openLog(dir) {
            $0.environment.initialMapSize = 256 << 10
            $0.environment.maxMapSize = 3 << 20
        }
        let payload = "{\"pad\":\"" + String(repeating: "p", count: 2_000) + "\"}"
        var acknowledged: [UInt64] = []
        var failure: EventLogError?
        for _ in 0..<5_000 {
            do {
                acknowledged += try await log.append(to: "big-\(acknowledged.count % 5)", events: [event("e", payload)]).positions
            } catch let error as EventLogError {
                failure = error
                break
            }
        }
        let error = try #require(failure, "the log never filled up")
        #expect(error.code == .storage)
        #expect(error.message.contains("maximum map size"))
        #expect(error.message.contains("nothing of this append was written"))
        #expect(acknowledged.count > 200, "the map should have grown from 256 KiB before failing")
        #expect(acknowledged == Array(1...UInt64(acknowledged.count)))
        log.close()
        let reopened = try openLog(dir) { $0.environment.maxMapSize = 3 << 20 }
        defer { reopened.close() }
        #expect(try reopened.head().position == UInt64(acknowledged.count))
        #expect(try reopened.verify().ok)
    }
}

/// A mutex-protected value that closures can share.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
