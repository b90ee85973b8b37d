import Dispatch
import Foundation

/// Maps an array on both cores: pure work a projection prepares before writing it in one
/// transaction (the transaction itself stays on the writer thread).
enum ParallelMap {
    /// `transform` of every element, in order. With `parallel`, the array is cut into one
    /// contiguous part per active processor, mapped concurrently; the first error thrown (in
    /// element order) is rethrown.
    static func map<T: Sendable, R: Sendable>(_ items: [T], parallel: Bool,
                                              _ transform: @Sendable (T) throws -> R) throws -> [R] {
        let parts = parallel ? min(items.count, max(1, ProcessInfo.processInfo.activeProcessorCount)) : 1
        guard parts > 1 else { return try items.map(transform) }
        let results = ResultSlots<[R]>(count: parts)
        let size = (items.count + parts - 1) / parts
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let range = (part * size)..<min(items.count, (part + 1) * size)
            results.set(part, Result { try items[range].map(transform) })
        }
        var out: [R] = []
        out.reserveCapacity(items.count)
        for part in 0..<parts { out.append(contentsOf: try results.get(part)) }
        return out
    }
}

/// One result slot per concurrent part.
///
/// `@unchecked Sendable`: each slot is written by exactly one iteration of
/// `concurrentPerform` (its own index) and read only after `concurrentPerform` returned,
/// which happens-after every iteration; no slot is ever accessed by two threads at once, and
/// the storage is allocated once and never moves.
private final class ResultSlots<R: Sendable>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Result<R, any Error>?>
    private let count: Int

    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    func set(_ index: Int, _ result: Result<R, any Error>) { slots[index] = result }

    func get(_ index: Int) throws -> R {
        guard let result = slots[index] else { throw ProjectionError(.storage, projection: "", "internal: part \(index) of a parallel map produced nothing") }
        return try result.get()
    }
}
