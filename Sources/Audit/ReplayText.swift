import CaseDomain
import Foundation

extension Replay {
    /// The replay as text for a terminal: a header, then per event one line (position, time,
    /// type, actor, role, channel) and the state after it indented below, then the final state.
    public func text() -> String {
        var out = "\(aggregate.rawValue) \(id) (stream \(stream)): \(steps.count) event(s)"
        switch stoppedBy {
        case "as-of": out += ", as of \(asOf.map(DomainTime.format) ?? "?")"
        case "at-position": out += ", up to position \(atPosition.map(String.init) ?? "?")"
        default: break
        }
        out += "\n"
        for step in steps {
            var who = step.actor.isEmpty ? "unknown actor" : step.actor
            let via = [step.role, step.channel].compactMap { $0 }
            if !via.isEmpty { who += " (\(via.joined(separator: ", ")))" }
            out += "\n#\(step.position)  \(DomainTime.format(step.at))  \(step.type)  by \(who)\n"
            if let note = step.note { out += "    ! \(note)\n" }
            out += Self.describe(step.state, indent: "    ")
        }
        if let final, stoppedBy == "as-of" {
            out += "\nstate as of \(DomainTime.format(final.evaluatedAt)):\n" + Self.describe(final, indent: "    ")
        } else if final == nil {
            out += "\nno event had happened by then\n"
        }
        for warning in warnings { out += "warning: \(warning)\n" }
        return out
    }

    /// The state block of the text form.
    static func describe(_ state: ReplayState, indent: String) -> String {
        var head = "status \(state.status)"
        if let p = state.priority { head += " · priority \(p)" }
        if state.priority != nil || state.owner != nil { head += " · owner \(state.owner ?? "–")" }
        if let team = state.team { head += " · team \(team)" }
        if let policy = state.policy { head += " · policy \(policy)" }
        var out = indent + head + "\n"
        for c in state.clocks {
            var line = "clock \(c.target): "
            if let met = c.metAt {
                line += "met \(DomainTime.format(met))"
            } else if let stopped = c.stoppedAt {
                line += "stopped \(DomainTime.format(stopped))"
            } else if c.suspended {
                line += "suspended (no deadline)"
            } else if c.paused {
                line += "paused (no deadline)"
            } else {
                line += "due \(c.deadline.map(DomainTime.format) ?? "–")"
            }
            let kind = c.calendar.map { "business, \($0)\(c.calendarVersion.map { " v\($0)" } ?? "")" } ?? c.timeKind
            line += "; elapsed \(duration(c.elapsedSeconds)) of \(duration(c.targetSeconds)) (\(kind))"
            if let at = c.atRiskAt { line += "; at risk \(DomainTime.format(at))" }
            if let at = c.breachedAt { line += "; BREACHED \(DomainTime.format(at))" }
            out += indent + line + "\n"
        }
        for f in state.flags {
            var line = "flag \(f.kind)\(f.target.map { " (\($0))" } ?? "") [\(f.rule)] raised \(DomainTime.format(f.raisedAt)) by \(f.raisedBy): \(f.reason)"
            line += f.clearedAt.map { "; cleared \(DomainTime.format($0))" } ?? "; current"
            out += indent + line + "\n"
        }
        return out
    }
}

/// `3h 05m`, `2d 1h 00m`, `45s`, with a minus sign for negatives.
func duration(_ seconds: Int64) -> String {
    let sign = seconds < 0 ? "-" : ""
    let s = seconds.magnitude
    let days = s / 86_400, hours = s % 86_400 / 3_600, minutes = s % 3_600 / 60
    if s < 60 { return "\(sign)\(s)s" }
    if days > 0 { return "\(sign)\(days)d \(hours)h \(String(format: "%02d", minutes))m" }
    return "\(sign)\(hours)h \(String(format: "%02d", minutes))m"
}
