import Foundation

/// Key encodings shared by the projections (schemas/storage.md "Projections").
///
/// Keys sort bytewise in LMDB, so integers are big-endian, times are milliseconds since the
/// epoch offset by 2^63 (so negative instants sort first), and variable-length text fields
/// end with a `0x00` separator (text never contains `0x00`).
public enum Keys {
    /// Whether `a` sorts before `b` as LMDB orders keys (bytes, shorter first on a tie).
    @inline(__always) static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                let n = min(x.count, y.count)
                if n > 0, let xp = x.baseAddress, let yp = y.baseAddress {
                    let c = memcmp(xp, yp, n)
                    if c != 0 { return c < 0 }
                }
                return x.count < y.count
            }
        }
    }

    /// `v` as 4 big-endian bytes.
    public static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }

    /// 8-byte big-endian.
    @inline(__always)
    public static func be64(_ v: UInt64) -> [UInt8] {
        withUnsafeBytes(of: v.bigEndian) { Array($0) }
    }

    /// Appends `v` as 8 bytes big-endian.
    @inline(__always)
    static func append(_ v: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) }
    }

    /// Milliseconds since the epoch, sortable (sign bit flipped).
    @inline(__always)
    static func time(_ ms: Int64) -> UInt64 { UInt64(bitPattern: ms) ^ (1 << 63) }

    /// The inverse of ``time(_:)``.
    @inline(__always)
    static func ms(_ t: UInt64) -> Int64 { Int64(bitPattern: t ^ (1 << 63)) }

    /// Appends UTF-8 text and its `0x00` terminator.
    @inline(__always)
    static func append(_ s: String, to out: inout [UInt8]) {
        out.append(contentsOf: s.utf8)
        out.append(0)
    }

    /// The 8-byte big-endian integer at `o` of a key or value.
    @inline(__always)
    static func uint64(_ b: UnsafeRawBufferPointer, at o: Int) -> UInt64 {
        UInt64(bigEndian: b.loadUnaligned(fromByteOffset: o, as: UInt64.self))
    }

    /// The 4-byte big-endian integer at `o` of a key or value.
    @inline(__always)
    static func uint32(_ b: UnsafeRawBufferPointer, at o: Int) -> UInt32 {
        UInt32(bigEndian: b.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }

    /// Whether `key` starts with `prefix`.
    static func hasPrefix(_ key: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        key.count >= prefix.count && key.prefix(prefix.count).elementsEqual(prefix)
    }
}
