import EventLog
import Foundation
import Logging
import Testing

@Suite("Durability under SIGKILL")
struct CrashTests {
    @Test("a writer killed with SIGKILL at random moments loses no acknowledged event, half-writes nothing, and the chain verifies",
          .timeLimit(.minutes(5)))
    func killUnderLoad() throws {
        let dir = temporaryPath()
        let seed = UInt64(Date().timeIntervalSince1970 * 1000)
        var rng = SplitMix64(seed: seed)
        var acknowledged: [UInt64: String] = [:]
        let rounds = 12
        for round in 0..<rounds {
            let ackFile = temporaryPath() + "-\(round).acks"
            _ = FileManager.default.createFile(atPath: ackFile, contents: nil)
            let output = try #require(FileHandle(forWritingAtPath: ackFile))
            let child = Process()
            child.executableURL = URL(fileURLWithPath: productPath("docket-stress"))
            child.arguments = ["--data-dir", dir, "--writers", "32", "--streams", "40", "--max-group", "4",
                               "--seconds", "120", "--payload-bytes", "120", "--ack"]
            child.standardOutput = output
            child.standardError = FileHandle.nullDevice
            try child.run()
            // Let it get going, then kill it at a random moment.
            let started = Date()
            while (try? FileManager.default.attributesOfItem(atPath: ackFile)[.size] as? NSNumber)?.intValue ?? 0 == 0 {
                guard Date().timeIntervalSince(started) < 30 else { break }
                usleep(2_000)
            }
            usleep(UInt32(rng.next() % 400_000))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            try output.close()
            #expect(child.terminationReason == .uncaughtSignal, "round \(round) (seed \(seed)): the child ended before it was killed")

            // Only complete lines count: a line cut by the kill was never fully acknowledged.
            let text = try String(contentsOfFile: ackFile, encoding: .utf8)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast()
            for line in lines {
                let parts = line.split(separator: " ")
                guard parts.count == 6, parts[0] == "ack", let position = UInt64(parts[1]) else {
                    Issue.record("malformed ack line \(line)")
                    continue
                }
                acknowledged[position] = String(parts[2])
            }

            let log = try EventLog.open(directory: dir, create: false, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
            defer { log.close() }
            // Every acknowledged event is there, at the position it was acknowledged with.
            for (position, id) in acknowledged {
                let stored = try log.event(at: position)
                #expect(stored?.id.uuidString.lowercased() == id, "round \(round) (seed \(seed)): acknowledged event \(id) missing at \(position)")
            }
            // The chain and every index verify.
            let report = try log.verify()
            #expect(report.ok, "round \(round) (seed \(seed)): \(report.problems.prefix(3))")
            // Nothing half-written: every multi-event append is whole and contiguous.
            var groups: [String: [(index: Int, of: Int, position: UInt64, stream: String)]] = [:]
            var position: UInt64 = 1
            while true {
                let page = try log.readAll(from: position, limit: 10_000)
                guard let last = page.last else { break }
                for e in page {
                    let payload = try #require(try JSONSerialization.jsonObject(with: e.payload) as? [String: Any])
                    let group = try #require(payload["group"] as? String)
                    groups[group, default: []].append((try #require(payload["index"] as? Int), try #require(payload["of"] as? Int), e.position, e.stream))
                }
                position = last.position + 1
            }
            for (group, members) in groups {
                let of = members[0].of
                #expect(members.map(\.index) == Array(0..<of), "round \(round): append \(group) is half-written: \(members.map(\.index)) of \(of)")
                #expect(members.map(\.position) == Array(members[0].position..<(members[0].position + UInt64(members.count))))
                #expect(Set(members.map(\.stream)).count == 1)
            }
        }
        #expect(acknowledged.count > 100, "seed \(seed): too few acknowledged events to prove anything")
    }
}

/// A small deterministic PRNG (SplitMix64), so a failing run can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
