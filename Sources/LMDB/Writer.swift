import CLMDB
import Foundation
import Synchronization

/// The one thread of a process that writes to an ``Environment`` (DESIGN.md rule 2).
///
/// Work is submitted as jobs that run one after another on a dedicated OS thread; a job
/// receives a ``WriteContext`` through which it opens write transactions. Because write
/// transactions can only be opened from a `WriteContext`, and a `WriteContext` exists
/// only on this thread, every write transaction of the process runs here.
public final class Writer: Sendable {
    /// A job run on the writer thread.
    public typealias Job = @Sendable (borrowing WriteContext) -> Void

    private struct Queue {
        var jobs: [Job] = []
        var stopping = false
    }

    /// State shared by the writer object and its thread.
    private final class Shared: Sendable {
        let queue = Mutex(Queue())
        let wakeup = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        /// The writer thread's pthread id, set when it starts.
        let threadID = Mutex<pthread_t?>(nil)

        var isWriterThread: Bool {
            threadID.withLock { id in id.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
        }
    }

    private let shared = Shared()

    /// Starts the writer thread for `environment`.
    public init(environment: Environment, name: String = "docket.lmdb.writer") {
        let shared = self.shared
        let thread = Thread {
            shared.threadID.withLock { $0 = pthread_self() }
            let wakeup = shared.wakeup
            let context = WriteContext(environment: environment)
            while true {
                wakeup.wait()
                let next: Job? = shared.queue.withLock { q in
                    q.jobs.isEmpty ? nil : q.jobs.removeFirst()
                }
                if let next {
                    next(context)
                    continue
                }
                if shared.queue.withLock({ $0.stopping && $0.jobs.isEmpty }) { break }
            }
            shared.finished.signal()
        }
        thread.name = name
        thread.start()
    }

    deinit {
        shutdown()
    }

    /// Queues `job`; returns false (and does not run it) when the writer has shut down.
    @discardableResult
    public func submit(_ job: @escaping Job) -> Bool {
        let accepted = shared.queue.withLock { q -> Bool in
            guard !q.stopping else { return false }
            q.jobs.append(job)
            return true
        }
        if accepted { shared.wakeup.signal() }
        return accepted
    }

    /// Runs `body` on the writer thread and returns its result.
    public func perform<R: Sendable>(_ body: @escaping @Sendable (borrowing WriteContext) throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<R, any Error>) in
            let accepted = submit { context in
                continuation.resume(with: Result { try body(context) })
            }
            if !accepted { continuation.resume(throwing: WriterClosedError()) }
        }
    }

    /// Runs `body` on the writer thread and blocks the calling thread until it is done.
    /// Never call this from a job (it would wait for itself).
    public func performAndWait<R: Sendable>(_ body: @escaping @Sendable (borrowing WriteContext) throws -> R) throws -> R {
        precondition(!shared.isWriterThread, "performAndWait called from a writer job would deadlock")
        let done = DispatchSemaphore(value: 0)
        let box = Mutex<Result<R, any Error>?>(nil)
        let accepted = submit { context in
            let result = Result { try body(context) }
            box.withLock { $0 = result }
            done.signal()
        }
        guard accepted else { throw WriterClosedError() }
        done.wait()
        guard let result = box.withLock({ $0 }) else { throw WriterClosedError() }
        return try result.get()
    }

    /// Runs the jobs already queued, then stops the thread and waits for it. Idempotent.
    public func shutdown() {
        let first = shared.queue.withLock { q -> Bool in
            defer { q.stopping = true }
            return !q.stopping
        }
        guard first else { return }
        shared.wakeup.signal()
        // On the writer thread itself (the last reference dropped inside a job) the thread
        // ends after the current job; waiting for it here would wait forever.
        if !shared.isWriterThread { shared.finished.wait() }
    }
}

/// Thrown when work is submitted to a ``Writer`` that has shut down.
public struct WriterClosedError: Error, CustomStringConvertible, Sendable {
    public var description: String { "the LMDB writer has shut down; reopen the environment to write" }
}

/// What a job on the writer thread uses to write. Non-copyable, so it cannot leave the job.
public struct WriteContext: ~Copyable {
    let environment: Environment

    /// Runs `body` in a write transaction: commits when it returns, aborts when it throws.
    ///
    /// When the map is full the transaction is aborted, the map grows, and `body` runs
    /// again from the start, so `body` must derive everything it writes from what it reads
    /// in the transaction (or from its inputs). When the map has reached its maximum the
    /// call throws ``LMDBResultCode/mapFull`` and nothing is written.
    public func transaction<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        while true {
            let txn = try environment.beginTransaction(flags: 0, operation: "mdb_txn_begin(write)")
            let result: R
            do {
                result = try body(WriteTransaction(handle: txn))
            } catch let error as LMDBError where error.code == .mapFull {
                mdb_txn_abort(txn)
                environment.resizeLock.unlock()
                try environment.grow()
                continue
            } catch {
                mdb_txn_abort(txn)
                environment.resizeLock.unlock()
                throw error
            }
            let rc = mdb_txn_commit(txn)
            environment.resizeLock.unlock()
            if rc == MDB_MAP_FULL {
                try environment.grow()
                continue
            }
            try check(rc, "mdb_txn_commit")
            return result
        }
    }

    /// Opens (and with `create`, creates) the named database.
    public func openDatabase(named name: String, create: Bool = true) throws -> Database {
        try transaction { txn in
            var dbi: MDB_dbi = 0
            let rc = mdb_dbi_open(txn.unsafeHandle, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
            if rc == MDB_NOTFOUND {
                throw LMDBError(code: .notFound, operation: "mdb_dbi_open(\(name))", message: "database \(name) does not exist")
            }
            try check(rc, "mdb_dbi_open(\(name))")
            return Database(handle: dbi, name: name)
        }
    }
}
