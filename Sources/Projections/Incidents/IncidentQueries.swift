import CaseDomain
import Foundation
import LMDB

/// The period of an incident report (R6.6). Boundaries are UTC calendar days.
public enum ReportPeriod: Sendable, Hashable {
    /// A calendar month.
    case month(year: Int, month: Int)
    /// A quarter, 1...4.
    case quarter(year: Int, quarter: Int)
    /// From 1 January of the year of `asOf` up to and including `asOf`'s day.
    case yearToDate(asOf: Date)
    /// One day.
    case day(Date)
    /// From the start of `from`'s day to the end of `to`'s day.
    case range(from: Date, to: Date)

    /// The month holding `date` (the default period).
    public static func month(of date: Date) -> ReportPeriod {
        let (y, m, _) = civil(date)
        return .month(year: y, month: m)
    }

    /// `[start, end)` instants.
    public var interval: (start: Date, end: Date) {
        switch self {
        case .month(let y, let m):
            return (utc(y, m, 1), m == 12 ? utc(y + 1, 1, 1) : utc(y, m + 1, 1))
        case .quarter(let y, let q):
            let m = (q - 1) * 3 + 1
            return (utc(y, m, 1), q == 4 ? utc(y + 1, 1, 1) : utc(y, m + 3, 1))
        case .yearToDate(let asOf):
            let (y, _, _) = civil(asOf)
            return (utc(y, 1, 1), startOfDay(asOf).addingTimeInterval(86_400))
        case .day(let d):
            return (startOfDay(d), startOfDay(d).addingTimeInterval(86_400))
        case .range(let from, let to):
            return (startOfDay(from), startOfDay(to).addingTimeInterval(86_400))
        }
    }

    /// A label: `2026-03`, `2026-Q1`, `2026-ytd-2026-05-10`, `2026-05-10`, `2026-05-01..2026-05-31`.
    public var label: String {
        switch self {
        case .month(let y, let m): return "\(y)-\(pad2(m))"
        case .quarter(let y, let q): return "\(y)-Q\(q)"
        case .yearToDate(let d): return "\(civil(d).0)-ytd-\(dayString(d))"
        case .day(let d): return dayString(d)
        case .range(let f, let t): return "\(dayString(f))..\(dayString(t))"
        }
    }
}

func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

/// Year, month, day of `date` in UTC.
func civil(_ date: Date) -> (Int, Int, Int) {
    let s = DomainTime.format(date)
    let u = Array(s.utf8)
    func n(_ r: Range<Int>) -> Int { u[r].reduce(0) { $0 * 10 + Int($1 - 48) } }
    return (n(0..<4), n(5..<7), n(8..<10))
}

func dayString(_ date: Date) -> String { String(DomainTime.format(date).prefix(10)) }

func utc(_ y: Int, _ m: Int, _ d: Int) -> Date {
    DomainTime.parse("\(y)-\(pad2(m))-\(pad2(d))T00:00:00.000Z") ?? Date(timeIntervalSince1970: 0)
}

func startOfDay(_ date: Date) -> Date {
    let (y, m, d) = civil(date)
    return utc(y, m, d)
}

/// The incident report (R6.6).
public struct IncidentReport: Sendable, Hashable {
    /// The period's label.
    public var period: String
    /// Start (inclusive) and end (exclusive).
    public var from: Date
    /// End (exclusive).
    public var to: Date
    /// Unresolved incidents declared before the period ended.
    public var current: [IncidentRecord]
    /// Resolved incidents whose declared-to-resolved span overlaps the period.
    public var past: [IncidentRecord]
}

/// Queries over the `incidents` projection.
public struct IncidentQueries: Sendable {
    let runner: ProjectionRunner
    let projection: String

    /// Queries on projection `projection` (default `incidents`) of `runner`.
    public init(runner: ProjectionRunner, projection: String = "incidents") {
        self.runner = runner
        self.projection = projection
    }

    /// Incident `number`, or `nil`.
    public func incident(_ number: Int) throws -> IncidentRecord? {
        let decoder = MessageCoding.decoder()
        return try runner.read(projection) { txn, db in
            try txn.get(db, key: IncidentKeys.record(number)).map { try decoder.decode(IncidentRecord.self, from: Data($0)) }
        }
    }

    /// Every timeline entry of incident `number`, in log order.
    public func timeline(_ number: Int) throws -> [TimelineEntry] {
        try scan(IncidentKeys.entryPrefix(number), TimelineEntry.self)
    }

    /// Every incident, by number.
    public func all() throws -> [IncidentRecord] {
        try scan([IncidentKeys.recordTag], IncidentRecord.self)
    }

    /// The incident report for `period` (R6.6).
    public func report(_ period: ReportPeriod) throws -> IncidentReport {
        let (from, to) = period.interval
        var current: [IncidentRecord] = []
        var past: [IncidentRecord] = []
        for r in try all() {
            guard let declared = r.state.declaredAt else { continue }
            if let resolved = r.state.resolvedAt {
                let start = min(declared, r.state.occurredFrom ?? declared)
                if start < to && resolved >= from { past.append(r) }
            } else if declared < to {
                current.append(r)
            }
        }
        return IncidentReport(period: period.label, from: from, to: to, current: current, past: past)
    }

    private func scan<T: Decodable>(_ prefix: [UInt8], _ type: T.Type) throws -> [T] {
        let decoder = MessageCoding.decoder()
        return try runner.read(projection) { txn, db in
            try txn.withCursor(db) { cursor in
                var out: [T] = []
                var e = try cursor.get(.setRange, key: prefix)
                while let x = e, Keys.hasPrefix(x.key, prefix) {
                    out.append(try decoder.decode(T.self, from: Data(x.value)))
                    e = try cursor.get(.next)
                }
                return out
            }
        }
    }
}
