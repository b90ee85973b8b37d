import Foundation
import Testing
@testable import Projections

/// The external merge sort behind a parallel rebuild: runs spilled to scratch files and
/// merged back in key order, keeping each tag's latest run only.
@Suite struct SortedRunsTests {
    /// Random runs in two spills, tags re-spilled in later runs (a case flushed, read back and
    /// flushed again): the merge yields exactly the entries of each tag's latest run, in key
    /// order, in chunks of about the requested size, including values larger than a reader's
    /// buffer; every value reads back from where it was located.
    @Test(arguments: [UInt64(1), 2, 3])
    func mergeYieldsEachTagsLatestEntriesInKeyOrder(seed: UInt64) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SplitMix64(seed: seed)
        var sources: [(spill: RunSpill, latest: [UInt32])] = []
        var expected: [([UInt8], [UInt8])] = []
        for _ in 0..<2 {
            let spill = try RunSpill(directory: dir)
            let tags = 300
            var latest = [UInt32](repeating: 0, count: tags)
            var latestEntries: [[RunEntry]] = Array(repeating: [], count: tags)
            for _ in 0..<(3 + rng.next(5)) {
                var entries: [RunEntry] = []
                var inRun = Set<UInt32>()
                for _ in 0..<(20 + rng.next(60)) {
                    let tag = UInt32(rng.next(tags))
                    guard inRun.insert(tag).inserted else { continue }
                    // A tag's keys end with the tag, so two tags never share a key; a tag's keys
                    // differ from one run to the next (a case's index entries move).
                    for _ in 0..<(1 + rng.next(4)) {
                        var key = (0..<(1 + rng.next(12))).map { _ in UInt8(rng.next(4)) }
                        key += withUnsafeBytes(of: tag.bigEndian) { Array($0) } + withUnsafeBytes(of: UInt32(rng.next(1 << 30)).bigEndian) { Array($0) }
                        let size = rng.next(50) == 0 ? 70_000 + Int(rng.next(100_000)) : Int(rng.next(300))
                        entries.append(RunEntry(key: key, value: (0..<size).map { _ in UInt8(rng.next(256)) }, tag: tag))
                    }
                }
                entries.sort { Keys.precedes($0.key, $1.key) }
                var located: [Int64] = Array(repeating: -1, count: entries.count)
                let run = try spill.write(run: entries) { i, offset in located[i] = offset }
                for (i, e) in entries.enumerated() {
                    #expect(try spill.read(at: located[i], count: e.value.count) == e.value)
                }
                for tag in inRun {
                    latest[Int(tag)] = UInt32(run)
                    latestEntries[Int(tag)] = entries.filter { $0.tag == tag }
                }
            }
            sources.append((spill, latest))
            expected += latestEntries.flatMap { $0.map { ($0.key, $0.value) } }
        }
        expected.sort { Keys.precedes($0.0, $1.0) }
        #expect(expected.count > 100)

        var merged: [([UInt8], [UInt8])] = []
        var chunks: [SortedChunk] = []
        try SortedRuns.merge(sources, chunkBytes: 64 << 10) { chunk in chunks.append(chunk) }
        for chunk in chunks {
            chunk.forEach { key, value in merged.append((Array(key), Array(value))) }
        }
        #expect(merged.count == expected.count)
        #expect(merged.elementsEqual(expected) { $0.0 == $1.0 && $0.1 == $1.1 })
        // Chunks are about the requested size (the last may be smaller; one large value may overshoot).
        #expect(chunks.count > 3)
        #expect(chunks.dropLast().allSatisfy { $0.byteCount >= 64 << 10 })
        // Scratch files are unlinked when created: nothing is left in the directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    /// A scratch directory that cannot hold a file is an error naming it, not a crash.
    @Test func spillInAMissingDirectoryIsAnError() {
        let dir = "/nonexistent-\(UUID().uuidString)"
        #expect {
            _ = try RunSpill(directory: dir)
        } throws: { error in
            "\(error)".contains(dir) && "\(error)".contains("scratch file")
        }
    }
}
