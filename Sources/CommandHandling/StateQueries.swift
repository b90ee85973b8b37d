import CaseDomain

extension CommandHandler {
    /// The case stream `stream` folded as the log holds it now, and its version (`nil` when
    /// it has no events). It starts from the handler's cache of folded states (which every
    /// decided command refreshes), so after a command it folds nothing or only the events
    /// appended since; the deadline scheduler asks this after every append.
    public func caseState(_ stream: String) throws(CommandError) -> (state: CaseState, version: UInt64?) {
        let (state, version) = try load(CaseDecider.self, stream: stream) { if case .case(let e) = $0 { e } else { nil } }
        return (state, version)
    }

    /// Like ``caseState(_:)``, but when the handler's cache holds the stream at `version` or
    /// later (a command decided here left it there), that state, without reading the log:
    /// for a follower that has just read from the log that the stream reached `version`.
    public func caseState(_ stream: String, atLeast version: UInt64) throws(CommandError) -> (state: CaseState, version: UInt64?) {
        if let cached = stateCache.get(stream, as: CaseState.self), cached.version >= version {
            return (cached.state, cached.version)
        }
        return try caseState(stream)
    }
}
