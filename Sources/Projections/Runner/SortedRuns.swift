import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Entries in strictly increasing key order (as LMDB orders keys), in one flat buffer of
/// records `key length (4 bytes) ‖ value length (4 bytes) ‖ key ‖ value`: what a rebuild
/// hands the writer thread to append (`MDB_APPEND`) to a fresh table.
public struct SortedChunk: Sendable {
    /// The records.
    private(set) var bytes: [UInt8] = []
    /// How many entries the chunk holds.
    public private(set) var count = 0

    /// An empty chunk with room for `capacity` bytes.
    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// The size of the records in bytes.
    var byteCount: Int { bytes.count }

    /// Appends an entry; its key must sort after every key already in the chunk.
    mutating func append(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        SortedRuns.appendLength(key.count, to: &bytes)
        SortedRuns.appendLength(value.count, to: &bytes)
        bytes.append(contentsOf: key)
        bytes.append(contentsOf: value)
        count += 1
    }

    /// Calls `body` with each key and value, in order.
    public func forEach(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { b in
            var o = 0
            while o + 8 <= b.count {
                let k = SortedRuns.length(b, o), v = SortedRuns.length(b, o + 4)
                o += 8
                try body(UnsafeRawBufferPointer(rebasing: b[o..<o + k]), UnsafeRawBufferPointer(rebasing: b[o + k..<o + k + v]))
                o += k + v
            }
        }
    }
}

/// One entry of a run: a key, its value and the tag of what it belongs to (a rebuild tags
/// every entry of a case with the case's ordinal, to tell which run holds the case's latest
/// entries).
struct RunEntry {
    var key: [UInt8]
    var value: [UInt8]
    var tag: UInt32
}

/// Sorted runs of entries spilled to a scratch file, merged later into one key-ordered
/// stream (an external merge sort).
///
/// A rebuild folds the log with bounded memory, so it writes each case's entries several
/// thousand cases at a time. Put straight into the B-tree, every such slice touches pages
/// all over the table (its keys are spread across every index) and each transaction
/// rewrites most of the tree's leaves: on a 5 M-event log that was 22 GB written for a 1.6
/// GB table. Spilled as sorted runs and merged, the table is written once, in key order,
/// with `MDB_APPEND`.
///
/// The file is unlinked as soon as it is created, so it disappears with the process
/// whatever happens; it lives in the data directory (the same file system, which has room
/// for a copy of the tables anyway).
///
/// `@unchecked Sendable`: a spill is written only by the one thread that created it and
/// read (``merge(_:chunkBytes:emit:)``, ``read(at:count:)``) only by that thread or, once
/// that thread has finished and handed it over through a lock, by the merging thread; its
/// mutable fields are never touched by two threads at once.
final class RunSpill: @unchecked Sendable {
    private let fd: Int32
    private let directory: String
    /// Byte ranges of the runs in the file, in the order they were written.
    private(set) var runs: [Range<Int64>] = []
    private var end: Int64 = 0
    private var buffer: [UInt8] = []

    /// Creates an unlinked scratch file in `directory`.
    init(directory: String) throws(SpillError) {
        var template = Array((directory + "/.docket-rebuild-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { p in p.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else { throw SpillError("cannot create a scratch file in \(directory): \(String(cString: strerror(errno)))") }
        template.withUnsafeBufferPointer { p in _ = p.baseAddress.map { unlink($0) } }
        self.fd = fd
        self.directory = directory
    }

    deinit { close(fd) }

    /// Writes `entries`, sorted by key, as the next run and returns its index; `located` is
    /// called with each entry's index in `entries` and the file offset of its value.
    func write(run entries: [RunEntry], located: (Int, Int64) -> Void) throws(SpillError) -> Int {
        let start = end
        buffer.removeAll(keepingCapacity: true)
        var flushedTo = end
        for (i, e) in entries.enumerated() {
            SortedRuns.appendLength(e.key.count, to: &buffer)
            SortedRuns.appendLength(e.value.count, to: &buffer)
            SortedRuns.appendLength(Int(e.tag), to: &buffer)
            buffer.append(contentsOf: e.key)
            located(i, flushedTo + Int64(buffer.count))
            buffer.append(contentsOf: e.value)
            if buffer.count >= 1 << 20 {
                try flush()
                flushedTo = end
            }
        }
        try flush()
        runs.append(start..<end)
        return runs.count - 1
    }

    private func flush() throws(SpillError) {
        var written = 0
        while written < buffer.count {
            let n = buffer.withUnsafeBytes { b in pwrite(fd, b.baseAddress.map { $0 + written }, b.count - written, off_t(end) + off_t(written)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw SpillError("cannot write the rebuild's scratch file in \(directory) after \(end >> 20) MB: \(String(cString: strerror(errno))); "
                                 + "a rebuild needs free space there of about the size of the projection's tables")
            }
            written += n
        }
        end += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    /// `count` bytes at `offset` (a value located by ``write(run:located:)``).
    func read(at offset: Int64, count: Int) throws(SpillError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { b in pread(fd, b.baseAddress.map { $0 + done }, count - done, off_t(offset) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SpillError("cannot read the rebuild's scratch file: \(n < 0 ? String(cString: strerror(errno)) : "unexpected end")") }
            done += n
        }
        return out
    }

    /// Reads up to `count` bytes at `offset` into `destination`; returns how many were read.
    fileprivate func read(into destination: UnsafeMutableRawPointer, count: Int, at offset: Int64) throws(SpillError) -> Int {
        while true {
            let n = pread(fd, destination, count, off_t(offset))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw SpillError("cannot read the rebuild's scratch file: \(String(cString: strerror(errno)))") }
            return n
        }
    }
}

/// A scratch file could not be written or read.
struct SpillError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The k-way merge of spilled runs.
enum SortedRuns {
    /// Merges every run of `sources` into one stream in key order, keeping an entry only
    /// when its run is the latest for its tag (`latest[tag] == run index` of its spill), and
    /// hands it out in chunks of about `chunkBytes`.
    ///
    /// Kept keys must be distinct (the caller's tags make them so: a key belongs to one tag,
    /// and only one run per tag is kept).
    static func merge(_ sources: [(spill: RunSpill, latest: [UInt32])], chunkBytes: Int,
                      emit: (SortedChunk) throws -> Void) throws {
        var readers: [RunReader] = []
        defer { for r in readers { r.deallocate() } }
        for (s, source) in sources.enumerated() {
            for (run, range) in source.spill.runs.enumerated() where !range.isEmpty {
                readers.append(RunReader(source: s, run: UInt32(run), spill: source.spill, range: range))
            }
        }
        var heap: [Int] = []
        for i in readers.indices where try readers[i].advance() { heap.append(i) }
        func less(_ a: Int, _ b: Int) -> Bool { readers[a].precedes(readers[b]) }
        func siftDown(_ from: Int) {
            var i = from
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && less(heap[l], heap[m]) { m = l }
                if r < heap.count && less(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        var chunk = SortedChunk(capacity: chunkBytes + (64 << 10))
        while let top = heap.first {
            let r = readers[top]
            if sources[r.source].latest[Int(r.tag)] == r.run {
                chunk.append(key: r.key, value: r.value)
                if chunk.byteCount >= chunkBytes {
                    try emit(chunk)
                    chunk = SortedChunk(capacity: chunkBytes + (64 << 10))
                }
            }
            if try !readers[top].advance() {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            }
            siftDown(0)
        }
        if chunk.count > 0 { try emit(chunk) }
    }

    @inline(__always) static func appendLength(_ n: Int, to out: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: n).littleEndian) { out.append(contentsOf: $0) }
    }

    @inline(__always) static func length(_ b: UnsafeRawBufferPointer, _ o: Int) -> Int {
        Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
    }
}

/// Reads one run through a buffer, record by record.
private struct RunReader {
    let source: Int
    let run: UInt32
    let spill: RunSpill
    var next: Int64
    let end: Int64
    var buffer: UnsafeMutableRawBufferPointer
    var start = 0  // first unread byte in `buffer`
    var filled = 0  // bytes of `buffer` holding data
    var key = UnsafeRawBufferPointer(start: nil, count: 0)
    var value = UnsafeRawBufferPointer(start: nil, count: 0)
    var tag: UInt32 = 0

    init(source: Int, run: UInt32, spill: RunSpill, range: Range<Int64>) {
        self.source = source
        self.run = run
        self.spill = spill
        self.next = range.lowerBound
        self.end = range.upperBound
        self.buffer = .allocate(byteCount: 64 << 10, alignment: 8)
    }

    func deallocate() { buffer.deallocate() }

    /// Ensures `n` unread bytes are buffered (growing the buffer for a large record);
    /// false at the end of the run.
    private mutating func ensure(_ n: Int) throws -> Bool {
        if filled - start >= n { return true }
        let pending = filled - start
        if n > buffer.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(n, buffer.count * 2), alignment: 8)
            if pending > 0, let from = buffer.baseAddress, let to = grown.baseAddress { to.copyMemory(from: from + start, byteCount: pending) }
            buffer.deallocate()
            buffer = grown
        } else if pending > 0, let base = buffer.baseAddress {
            base.copyMemory(from: base + start, byteCount: pending)
        }
        start = 0
        filled = pending
        while filled < n && next < end {
            guard let base = buffer.baseAddress else { return false }
            let want = Int(min(Int64(buffer.count - filled), end - next))
            let got = try spill.read(into: base + filled, count: want, at: next)
            if got == 0 { throw SpillError("the rebuild's scratch file ended early") }
            filled += got
            next += Int64(got)
        }
        return filled - start >= n
    }

    /// Moves to the next record; false at the end of the run.
    mutating func advance() throws -> Bool {
        guard try ensure(12) else {
            if filled > start { throw SpillError("the rebuild's scratch file ended inside a record") }
            return false
        }
        let header = UnsafeRawBufferPointer(rebasing: buffer[start..<start + 12])
        let k = SortedRuns.length(header, 0), v = SortedRuns.length(header, 4)
        tag = UInt32(SortedRuns.length(header, 8))
        guard try ensure(12 + k + v) else { throw SpillError("the rebuild's scratch file ended inside a record") }
        let body = start + 12
        key = UnsafeRawBufferPointer(rebasing: buffer[body..<body + k])
        value = UnsafeRawBufferPointer(rebasing: buffer[body + k..<body + k + v])
        start = body + k + v
        return true
    }

    /// Whether this reader's current key sorts before `other`'s (bytes, shorter first).
    @inline(__always) func precedes(_ other: RunReader) -> Bool {
        let n = min(key.count, other.key.count)
        if n > 0, let a = key.baseAddress, let b = other.key.baseAddress {
            let c = memcmp(a, b, n)
            if c != 0 { return c < 0 }
        }
        return key.count < other.key.count
    }
}
