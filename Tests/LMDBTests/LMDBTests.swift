import Foundation
import Synchronization
import Testing
@testable import LMDB

/// A fresh temporary directory for one test.
func temporaryDirectory(_ name: String = #function) -> String {
    let path = NSTemporaryDirectory() + "docket-lmdb-\(name.filter(\.isLetter))-\(UUID().uuidString)"
    return path
}

/// Resident kilobytes of `env`'s data file mapping (``Environment/residentMappedBytes()``):
/// unlike the process's `RssFile`, other tests' mappings do not count.
func mappedResidentKB(_ env: Environment) -> Int {
    (env.residentMappedBytes() ?? 0) / 1024
}

@Suite("LMDB wrapper")
struct LMDBWrapperTests {
    @Test("a write transaction commits when its closure returns; readers then see the value")
    func commitOnReturn() throws {
        let env = try Environment(path: temporaryDirectory())
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let db = try writer.performAndWait { ctx in try ctx.openDatabase(named: "kv") }
        try writer.performAndWait { ctx in
            try ctx.transaction { txn in try txn.put(db, key: Array("a".utf8), value: Array("1".utf8)) }
        }
        let value = try env.read { txn in try txn.get(db, key: Array("a".utf8)).map { Array($0) } }
        #expect(value == Array("1".utf8))
    }

    @Test("a /proc file is read whole, however many mappings the process has (not just its first 4 KB)")
    func procFileReadWhole() throws {
        var regions: [UnsafeMutableRawPointer] = []
        defer { for r in regions { munmap(r, 4096) } }
        for i in 0..<2_000 {
            // Alternating protections, so that neighbouring regions are not merged into one line.
            let p = try #require(mmap(nil, 4096, i % 2 == 0 ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
            #expect(p != MAP_FAILED)
            regions.append(p)
        }
        let maps = try #require(readProcFile("/proc/self/maps"))
        #expect(maps.utf8.count > 2_000 * 40)
        // Every region lies in some listed range (a region may be merged with a neighbour's line).
        let ranges = maps.split(separator: "\n").compactMap { line -> (UInt, UInt)? in
            let bounds = line.prefix { $0 != " " }.split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16) else { return nil }
            return (start, end)
        }.sorted { $0.0 < $1.0 }
        func listed(_ address: UInt) -> Bool {
            var low = 0, high = ranges.count
            while low < high {
                let mid = (low + high) / 2
                if ranges[mid].0 <= address { low = mid + 1 } else { high = mid }
            }
            return low > 0 && address < ranges[low - 1].1
        }
        #expect(regions.allSatisfy { listed(UInt(bitPattern: $0)) })
    }

    @Test("releasing mapped pages drops them from resident memory; the data reads back the same")
    func releaseMappedPages() throws {
        let env = try Environment(path: temporaryDirectory())
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let db = try writer.performAndWait { ctx in try ctx.openDatabase(named: "kv") }
        let value = [UInt8](repeating: 0x5A, count: 64 << 10)
        try writer.performAndWait { ctx in
            try ctx.transaction { txn in
                for i in 0..<640 { try txn.put(db, key: Array("k\(100_000 + i)".utf8), value: value) }
            }
        }
        func readAll() throws -> Int {
            try env.read { txn in
                var sum = 0
                for i in 0..<640 { sum += try txn.get(db, key: Array("k\(100_000 + i)".utf8)).map { $0.reduce(0) { $0 + Int($1) } } ?? 0 }
                return sum
            }
        }
        let expected = 640 * (64 << 10) * 0x5A
        #expect(try readAll() == expected)
        let touched = mappedResidentKB(env)
        env.releaseMappedPages()
        let released = mappedResidentKB(env)
        // 40 MB were mapped by the read.
        #expect(touched - released > 30_000, "resident file pages \(touched) kB before, \(released) kB after")
        #expect(try readAll() == expected)

        // The same in the background while a long pass reads (what a rebuild runs under):
        // within a few intervals the pages read are dropped again, and reads are unaffected.
        let releaser = MappedPageReleaser(environment: env, interval: .milliseconds(10))
        #expect(try readAll() == expected)
        var droppedInBackground = false
        for _ in 0..<200 where !droppedInBackground {
            Thread.sleep(forTimeInterval: 0.01)
            droppedInBackground = mappedResidentKB(env) < released + 10_000
        }
        releaser.stop()
        releaser.stop()  // idempotent
        #expect(droppedInBackground, "resident file pages stayed at \(mappedResidentKB(env)) kB")
        // Once stopped, pages read stay resident.
        #expect(try readAll() == expected)
        let afterStop = mappedResidentKB(env)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(afterStop > released + 30_000 && mappedResidentKB(env) > afterStop - 1_000, "pages were still released after stop()")
    }

    @Test("a release by resident size: nothing below the budget, the data file's pages above it")
    func releaseAboveBudget() throws {
        // The process's file-backed memory as /proc/self/statm gives it agrees with /proc/self/status.
        let statm = try #require(Environment.residentFileBytes())
        let status = try #require(readProcFile("/proc/self/status"))
        let kB = { (field: String) in status.split(separator: "\n").first { $0.hasPrefix(field) }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0 }
        let fromStatus = (kB("RssFile:") + kB("RssShmem:")) * 1_024
        #expect(statm > 0 && abs(statm - fromStatus) < 64 << 20, "statm \(statm) bytes, status \(fromStatus) bytes")

        let env = try Environment(path: temporaryDirectory())
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let db = try writer.performAndWait { ctx in try ctx.openDatabase(named: "kv") }
        let value = [UInt8](repeating: 0x33, count: 64 << 10)
        try writer.performAndWait { ctx in
            try ctx.transaction { txn in for i in 0..<640 { try txn.put(db, key: Array("k\(100_000 + i)".utf8), value: value) } }
        }
        // Every byte is read, so every page of the values is mapped.
        let sum = try env.read { txn in
            try (0..<640).reduce(0) { total, i in
                total + (try txn.get(db, key: Array("k\(100_000 + i)".utf8)).map { $0.reduce(0) { $0 + Int($1) } } ?? 0)
            }
        }
        #expect(sum == 640 * (64 << 10) * 0x33)
        let touched = mappedResidentKB(env)
        #expect(touched > 30_000)
        // Under the budget: nothing is released.
        #expect(!env.releaseMappedPages(ifResidentAbove: Int.max))
        #expect(mappedResidentKB(env) > touched - 1_000)
        // Over it: the data file's pages go.
        #expect(env.releaseMappedPages(ifResidentAbove: 0))
        #expect(mappedResidentKB(env) < touched - 30_000)
    }

    @Test("a write transaction aborts when its closure throws; nothing of it is stored")
    func abortOnThrow() throws {
        struct Boom: Error {}
        let env = try Environment(path: temporaryDirectory())
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let db = try writer.performAndWait { ctx in try ctx.openDatabase(named: "kv") }
        #expect(throws: Boom.self) {
            try writer.performAndWait { ctx in
                try ctx.transaction { txn in
                    try txn.put(db, key: Array("a".utf8), value: Array("1".utf8))
                    throw Boom()
                }
            }
        }
        let value = try env.read { txn in try txn.get(db, key: Array("a".utf8)).map { Array($0) } }
        #expect(value == nil)
    }

    @Test("error mapping: noOverwrite on an existing key gives MDB_KEYEXIST with the operation named")
    func keyExistsMapping() throws {
        let env = try Environment(path: temporaryDirectory())
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let db = try writer.performAndWait { ctx in try ctx.openDatabase(named: "kv") }
        let error = #expect(throws: LMDBError.self) {
            try writer.performAndWait { ctx in
                try ctx.transaction { txn in
                    try txn.put(db, key: [1], value: [1])
                    try txn.put(db, key: [1], value: [2], flags: .noOverwrite)
                }
            }
        }
        #expect(error?.code == .keyExists)
        #expect(error?.operation == "mdb_put(kv)")
        #expect(error?.description.contains("MDB_KEYEXIST") == true)
    }

    @Test("error mapping: a missing database is notFound; a missing directory is named")
    func missingThings() throws {
        let env = try Environment(path: temporaryDirectory())
        let error = #expect(throws: LMDBError.self) { try env.openExistingDatabase(named: "nope") }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("nope") == true)

        var options = EnvironmentOptions()
        options.createDirectory = false
        let missing = temporaryDirectory() + "/absent"
        let openError = #expect(throws: LMDBError.self) { try Environment(path: missing, options: options) }
        #expect(openError?.code == .noSuchFile)
        #expect(openError?.message.contains(missing) == true)
    }

    @Test("a write in a read-only environment is refused with EACCES, not a crash")
    func readOnlyEnvironment() throws {
        let path = temporaryDirectory()
        do {
            let env = try Environment(path: path)
            let writer = Writer(environment: env)
            _ = try writer.performAndWait { ctx in try ctx.openDatabase(named: "kv") }
            writer.shutdown()
        }
        var options = EnvironmentOptions()
        options.readOnly = true
        let env = try Environment(path: path, options: options)
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let error = #expect(throws: LMDBError.self) {
            try writer.performAndWait { ctx in try ctx.transaction { _ in } }
        }
        #expect(error?.code == .accessDenied)
    }

    @Test("cursors walk keys in order and position with setRange")
    func cursors() throws {
        let env = try Environment(path: temporaryDirectory())
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let db = try writer.performAndWait { ctx in try ctx.openDatabase(named: "kv") }
        try writer.performAndWait { ctx in
            try ctx.transaction { txn in
                for k: UInt8 in [5, 1, 3, 9] { try txn.put(db, key: [k], value: [k * 2]) }
            }
        }
        let (all, fromFour, last, count) = try env.read { txn in
            let all: [UInt8] = try txn.withCursor(db) { cursor in
                var keys: [UInt8] = []
                var e = try cursor.get(.first)
                while let entry = e { keys.append(entry.key[0]); e = try cursor.get(.next) }
                return keys
            }
            let fromFour = try txn.withCursor(db) { cursor in try cursor.get(.setRange, key: [4]).map { ($0.key[0], $0.value[0]) } }
            let last = try txn.withCursor(db) { cursor in try cursor.get(.last).map { $0.key[0] } }
            return (all, fromFour, last, try txn.entryCount(db))
        }
        #expect(all == [1, 3, 5, 9])
        #expect(fromFour?.0 == 5 && fromFour?.1 == 10)
        #expect(last == 9)
        #expect(count == 4)
    }

    @Test("every job runs on the one writer thread, in submission order")
    func oneWriterThread() async throws {
        let env = try Environment(path: temporaryDirectory())
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let seen = Mutex<[UInt]>([])
        let order = Mutex<[Int]>([])
        for i in 0..<50 {
            writer.submit { _ in
                seen.withLock { $0.append(UInt(pthread_self())) }
                order.withLock { $0.append(i) }
            }
        }
        _ = try await writer.perform { _ in 0 }
        #expect(Set(seen.withLock { $0 }).count == 1)
        #expect(order.withLock { $0 } == Array(0..<50))
        #expect(!seen.withLock { $0 }.contains(UInt(pthread_self())))
    }

    @Test("releasing mapped pages follows the map when it grows and moves (the cached range is renewed)")
    func releaseAfterGrowth() throws {
        var options = EnvironmentOptions()
        options.initialMapSize = 1 << 20
        let env = try Environment(path: temporaryDirectory(), options: options)
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let db = try writer.performAndWait { ctx in try ctx.openDatabase(named: "kv") }
        env.releaseMappedPages()  // finds and keeps the 1 MiB map's range
        let value = [UInt8](repeating: 0x33, count: 64 << 10)
        try writer.performAndWait { ctx in
            try ctx.transaction { txn in
                for i in 0..<640 { try txn.put(db, key: Array("k\(100_000 + i)".utf8), value: value) }
            }
        }
        #expect(env.mapSize > 40 << 20)
        let expected = 640 * (64 << 10) * 0x33
        func readAll() throws -> Int {
            try env.read { txn in
                var sum = 0
                for i in 0..<640 { sum += try txn.get(db, key: Array("k\(100_000 + i)".utf8)).map { $0.reduce(0) { $0 + Int($1) } } ?? 0 }
                return sum
            }
        }
        #expect(try readAll() == expected)
        let touched = mappedResidentKB(env)
        env.releaseMappedPages()
        let released = mappedResidentKB(env)
        #expect(touched - released > 30_000, "resident file pages \(touched) kB before, \(released) kB after: the grown map was not released")
        #expect(try readAll() == expected)
    }

    @Test("the map grows automatically, then refuses cleanly at its maximum with nothing lost")
    func mapGrowth() throws {
        var options = EnvironmentOptions()
        options.initialMapSize = 1 << 20
        options.maxMapSize = 4 << 20
        let env = try Environment(path: temporaryDirectory(), options: options)
        let writer = Writer(environment: env)
        defer { writer.shutdown() }
        let db = try writer.performAndWait { ctx in try ctx.openDatabase(named: "kv") }
        let value = [UInt8](repeating: 7, count: 1_000)
        // 2 MB does not fit in the 1 MiB map: the writer must grow it.
        try writer.performAndWait { ctx in
            try ctx.transaction { txn in
                for i in 0..<2_000 { try txn.put(db, key: withUnsafeBytes(of: UInt32(i).bigEndian, Array.init), value: value) }
            }
        }
        #expect(env.mapSize > 1 << 20)
        // 8 MB more cannot fit under the 4 MiB maximum: a clear error, and the transaction is not applied.
        let error = #expect(throws: LMDBError.self) {
            try writer.performAndWait { ctx in
                try ctx.transaction { txn in
                    for i in 2_000..<10_000 { try txn.put(db, key: withUnsafeBytes(of: UInt32(i).bigEndian, Array.init), value: value) }
                }
            }
        }
        #expect(error?.code == .mapFull)
        #expect(error?.message.contains("maximum map size") == true)
        #expect(try env.entryCount(db) == 2_000)
        #expect(env.mapSize == 4 << 20)
    }
}
