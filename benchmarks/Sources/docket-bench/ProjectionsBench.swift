import CaseDomain
import EventLog
import Foundation
import Logging
import Projections
import Synchronization

/// Projection benchmarks: catch-up and full rebuild throughput (events/s) with peak
/// resident memory, and the latency of filtered case-list pages of 50.
///
/// The log is a synthetic history made by the real deciders (SyntheticHistory), replicated
/// `DOCKET_BENCH_PROJ_COPIES` times under fresh case ids so that a large log is quick to
/// build. Size: `DOCKET_BENCH_PROJ_CASES` cases per copy (default 5000, about 12 events each).
func projectionsSuite() -> BenchSuite {
    BenchSuite(name: "Projections") {
        let env = ProcessInfo.processInfo.environment
        let casesPerCopy = Int(env["DOCKET_BENCH_PROJ_CASES"] ?? "") ?? 5_000
        let copies = Int(env["DOCKET_BENCH_PROJ_COPIES"] ?? "") ?? 20
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let catalog = try PolicyCatalog.shipped()
        var history = SyntheticHistory()
        history.cases = casesPerCopy
        history.incidents = 50
        let t0 = now()
        let base = try history.appends(catalog: catalog)
        print(String(format: "    (generated %d appends for %d cases in %.1f s)", base.count, casesPerCopy, now() - t0))

        // DOCKET_BENCH_PROJ_DIR keeps the log there and reuses it when it is already built
        // (e.g. to time `docket rebuild --data-dir` on it under /usr/bin/time).
        let (log, dir, removeLog) = try openTemporaryLog("docket-bench-proj", mapSize: 4 << 30, logger: logger,
                                                         keepIn: env["DOCKET_BENCH_PROJ_DIR"])
        defer { removeLog() }
        var events = 0
        let existing = Int(try log.head().position)
        if existing > 0 { events = existing; print("    (reusing the \(existing)-event log in \(dir))") }
        for copy in 0..<copies where existing == 0 {
            var chunk: [StreamAppend] = []
            for a in base {
                if copy > 0 && !a.stream.hasPrefix("case-") { continue }
                var b = a
                if copy > 0 {
                    b.stream = "case-K\(copy)" + a.stream.dropFirst(5)
                    b.expectedVersion = .any
                    b.events = a.events.map { e in
                        var n = e
                        n.id = UUID()
                        n.payload = Data(String(decoding: e.payload, as: UTF8.self).replacingOccurrences(of: "\"C1", with: "\"K\(copy)C1").utf8)
                        return n
                    }
                }
                events += b.events.count
                chunk.append(b)
                if chunk.count == 2_000 {
                    _ = try await log.append(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty { _ = try await log.append(chunk) }
        }
        print(String(format: "    (log: %d events, %d cases; %@)", events, casesPerCopy * copies, memoryNote() as NSString))

        let runner = try ProjectionRunner(log: log, projections: [CaseProjection(catalog: catalog), IncidentProjection()], logger: logger)
        var t = now()
        // DOCKET_BENCH_PROJ_ONLY=rebuild measures the rebuilds alone (for profiling them).
        let only = env["DOCKET_BENCH_PROJ_ONLY"]
        if only == nil || only == "catch-up" {
            try await runner.catchUp(batchSize: 8_192)
            report(Measurement(name: "catch-up, both projections (events/s)", count: events, seconds: now() - t), unit: "events")
        }
        for name in ["cases", "incidents"] where only == nil || only == "rebuild" {
            t = now()
            let cpu = cpuSeconds()
            try await runner.rebuild(name, batchSize: 8_192)
            report(Measurement(name: "rebuild \(name) (events/s of the whole log)", count: events, seconds: now() - t), unit: "events")
            print(String(format: "    (CPU, all threads: %.2f µs per event, %.2f cores busy)", (cpuSeconds() - cpu) / Double(events) * 1e6,
                         (cpuSeconds() - cpu) / (now() - t)))
            print("    (\(memoryNote()))")
        }
        if only == "rebuild" || only == "catch-up" { return }

        // DOCKET_BENCH_PROJ_ONLY=rebuild-bound: issue 20 item 5, the rebuild of `cases` against
        // its own bound measured in the same run (RebuildFloors): the rebuild, then reading and
        // decoding the log once on both cores, then LMDB's one writer appending the table the
        // rebuild just wrote (synced). The bound's time is the sum of the two floors (a rebuild
        // cannot append its first key before it has folded the last event).
        if only == "rebuild-bound" {
            let head = try log.head().position
            t = now()
            try await runner.rebuild("cases", batchSize: 8_192)
            let rebuild = Measurement(name: "rebuild cases (events/s of the whole log)", count: Int(head), seconds: now() - t)
            print("    (\(memoryNote()))")
            t = now()
            _ = try RebuildFloors.readOnce(log, head: head, threads: 2, decode: true)
            let readDecode = now() - t
            let table = try RebuildFloors.casesTable(log)
            let scratch = dir + "/../docket-bench-writer-floor-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let write = try RebuildFloors.appendTable(table.bytes, directory: scratch, durability: .full)
            let bound = Measurement(name: "bound: read+decode (2 threads) + table write (synced)", count: Int(head), seconds: readDecode + write)
            print(String(format: "    (read+decode %.2f s, table write %.2f s: %d entries, %.0f MB)", readDecode, write, table.entries,
                         Double(table.bytes.count - 8 * table.entries) / 1e6))
            report(bound, unit: "events")
            report(rebuild, baseline: bound, unit: "events")
            return
        }

        // DOCKET_BENCH_PROJ_ONLY=floors: the two lower bounds of a rebuild of `cases` on this
        // machine (RebuildFloors): reading (and decoding) the log once on both cores, and
        // LMDB's one writer appending the table a rebuild produced (the fuller slot, so run
        // `docket rebuild` or a catch-up on the kept log first).
        if only == "floors" {
            let head = try log.head().position
            for decode in [false, true] {
                t = now()
                let cpu = cpuSeconds()
                let seen = try RebuildFloors.readOnce(log, head: head, threads: 2, decode: decode)
                report(Measurement(name: decode ? "read every record once and decode every case payload, 2 threads split by position (floor)"
                                                : "read every record once, 2 threads split by position (floor)",
                                   count: events, seconds: now() - t), unit: "events")
                print(String(format: "    (%d case events; CPU, all threads: %.3f µs per event)", seen, (cpuSeconds() - cpu) / Double(events) * 1e6))
            }
            t = now()
            let table = try RebuildFloors.casesTable(log)
            print(String(format: "    (read the cases table: %d entries, %.0f MB of keys and values, in %.1f s)", table.entries,
                         Double(table.bytes.count - 8 * table.entries) / 1e6, now() - t))
            for durability in [Durability.noSync, .full] {
                let scratch = dir + "/../docket-bench-writer-floor-\(UUID().uuidString)"
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                let cpu = cpuSeconds()
                let seconds = try RebuildFloors.appendTable(table.bytes, directory: scratch, durability: durability)
                report(Measurement(name: "append the cases table to a fresh database, one writer, 8 MB transactions (\(durability)) (floor)",
                                   count: table.entries, seconds: seconds), unit: "entries")
                print(String(format: "    (%.2f s for %d entries; CPU, all threads: %.2f s)", seconds, table.entries, cpuSeconds() - cpu))
            }
            return
        }

        // The same floor on both cores, split by case as the parallel rebuild splits its
        // fold: each thread reads every record and decodes and folds the cases of its half.
        // DOCKET_BENCH_PROJ_ONLY=floor measures this alone (on a kept log: DOCKET_BENCH_PROJ_DIR).
        t = now()
        let cpuBefore = cpuSeconds()
        let folded = try foldEveryCaseEvent(log, threads: 2)
        report(Measurement(name: "in-memory fold of every case event, 2 threads split by case (floor)", count: events,
                           seconds: now() - t), unit: "events")
        print(String(format: "    (%d cases; CPU, all threads: %.2f µs per event)", folded, (cpuSeconds() - cpuBefore) / Double(events) * 1e6))
        if only == "floor" { return }

        // What a rebuild of `cases` cannot go below: read every event, decode every case
        // payload and fold it in memory (no derived rows, no tables written).
        t = now()
        var states: [String: CaseState] = [:]
        try log.scan(from: 1, chunk: 65_536, budget: .unlimited) { record in
            let r = record.decoded()
            guard r.stream.hasPrefix("case-") else { return }
            let event = try CaseEvent.decode(type: r.type, schemaVersion: Int(r.schemaVersion), payload: r.payload)
            CaseDecider.evolve(&states[String(r.stream.dropFirst(5)), default: CaseDecider.initialState], event)
        }
        report(Measurement(name: "in-memory fold of every case event (floor for rebuild)", count: events, seconds: now() - t), unit: "events")
        t = now()
        let encoder = MessageCoding.encoder()
        var bytes = 0
        for (_, state) in states { bytes += try encoder.encode(state).count }
        report(Measurement(name: "encode every folded case state once (JSON)", count: states.count, seconds: now() - t), unit: "cases")
        print(String(format: "    (%.0f bytes per case state on average; %.1f flags, %.1f clock pauses+suspensions)", Double(bytes) / Double(max(1, states.count)),
                     Double(states.values.reduce(0) { $0 + $1.flags.count }) / Double(max(1, states.count)),
                     Double(states.values.reduce(0) { $0 + $1.clocks.values.reduce(0) { $0 + $1.pauses.count + $1.suspensions.count } }) / Double(max(1, states.count))))

        let queries = CaseQueries(runner: runner)
        var shapes: [(String, CaseQuery)] = []
        var q = CaseQuery(); q.organisation = "org1"; q.status = "closed"; shapes.append(("org+status, by created", q))
        q = CaseQuery(); q.owner = "s2"; q.sort = .updated; shapes.append(("owner, by updated", q))
        q = CaseQuery(); q.team = "apps"; q.createdFrom = history.start.addingTimeInterval(86_400 * 30); shapes.append(("team + created range", q))
        q = CaseQuery(); q.organisation = "org2"; q.sort = .closed; shapes.append(("org, by closed", q))
        q = CaseQuery(); q.status = "investigating"; q.priority = "high"; shapes.append(("status + priority (post-filter)", q))
        for (label, query) in shapes {
            var samples: [Double] = []
            var page = try queries.list(query)
            for i in 0..<1_000 {
                var next = query
                next.cursor = i % 10 == 0 ? nil : page.nextCursor
                let s = now()
                page = try queries.list(next)
                samples.append((now() - s) * 1000)
            }
            print(String(format: "  %-52@ p50 %.3f ms  p99 %.3f ms  (%d rows/page)", ("list page of 50: " + label) as NSString,
                         percentile(samples, 50), percentile(samples, 99), page.rows.count))
            // The same pages as stored row JSON (what the HTTP API sends): rows are decoded only for post-filters.
            samples.removeAll(keepingCapacity: true)
            var raw = try queries.listJSON(query)
            for i in 0..<1_000 {
                var next = query
                next.cursor = i % 10 == 0 ? nil : raw.nextCursor
                let s = now()
                raw = try queries.listJSON(next)
                samples.append((now() - s) * 1000)
            }
            print(String(format: "  %-52@ p50 %.3f ms  p99 %.3f ms  (%d rows/page)", ("  as JSON rows: " + label) as NSString,
                         percentile(samples, 50), percentile(samples, 99), raw.rows.count))
        }
    }
}

/// A log without fsync in a fresh temporary directory (or in `keepIn`, kept), its
/// directory, and what closes it and removes a temporary directory.
func openTemporaryLog(_ name: String, mapSize: Int, logger: Logger,
                      keepIn: String? = nil) throws -> (EventLog, String, @Sendable () -> Void) {
    let dir = keepIn ?? (NSTemporaryDirectory() + "\(name)-\(UUID().uuidString)")
    var configuration = EventLog.Configuration()
    configuration.environment.durability = .noSync
    configuration.environment.initialMapSize = mapSize
    let log = try EventLog.open(directory: dir, configuration: configuration, logger: logger)
    return (log, dir, {
        log.close()
        if keepIn == nil { try? FileManager.default.removeItem(atPath: dir) }
    })
}

/// Peak resident set size (VmHWM) and current anonymous resident memory (RssAnon) of this
/// process, in MB. VmHWM includes the LMDB map's file pages the process touched (page
/// cache, reclaimable); RssAnon is the process's own heap.
func memoryMB() -> (peak: Double, anonymous: Double) {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (.nan, .nan) }
    func field(_ name: String) -> Double {
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            return (line.split(separator: " ").compactMap { Double($0) }.first ?? .nan) / 1024
        }
        return .nan
    }
    return (field("VmHWM:"), field("RssAnon:"))
}

/// "peak RSS X MB, anonymous Y MB".
func memoryNote() -> String {
    let m = memoryMB()
    return String(format: "peak RSS %.0f MB (includes touched LMDB file pages), anonymous RSS now %.0f MB", m.peak, m.anonymous)
}

/// Reads every record of `log` on each of `threads` threads; each decodes and folds (in
/// memory, nothing written) the case events of the cases whose stream hashes to it, as the
/// parallel rebuild splits its fold. Returns the number of cases folded.
func foldEveryCaseEvent(_ log: EventLog, threads: Int) throws -> Int {
    let results = Mutex<[Result<Int, any Error>]>([])
    DispatchQueue.concurrentPerform(iterations: threads) { index in
        let result = Result { () throws -> Int in
            var states: [String: CaseState] = [:]
            try log.scan(from: 1, chunk: 65_536, budget: .unlimited) { record in
                let r = record.decoded()
                guard r.stream.hasPrefix("case-"), stableHash(r.stream.utf8) % UInt64(threads) == UInt64(index) else { return }
                let event = try CaseEvent.decode(type: r.type, schemaVersion: Int(r.schemaVersion), payload: r.payload)
                CaseDecider.evolve(&states[String(r.stream.dropFirst(5)), default: CaseDecider.initialState], event)
            }
            return states.count
        }
        results.withLock { $0.append(result) }
    }
    return try results.withLock { $0 }.reduce(0) { try $0 + $1.get() }
}

/// FNV-1a of a name's bytes: the same thread for a case in every run, the same slot for an
/// event type.
func stableHash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}
