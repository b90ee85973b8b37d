import CaseDomain
import Foundation

/// How report periods are cut.
public enum PeriodGranularity: String, Sendable, Hashable, CaseIterable, Codable {
    /// `2026-03`.
    case month
    /// `2026-Q1`.
    case quarter
    /// `2026`.
    case year

    /// The label of the period holding `date` (UTC).
    public func label(_ date: Date) -> String {
        let (y, m, _) = civil(date)
        switch self {
        case .month: return "\(y)-\(pad2(m))"
        case .quarter: return "\(y)-Q\((m - 1) / 3 + 1)"
        case .year: return "\(y)"
        }
    }
}

/// What the survey report groups by (R5.4).
public enum SurveyDimension: String, Sendable, Hashable, CaseIterable, Codable {
    /// Team.
    case team
    /// Owner.
    case owner
    /// Organisation.
    case organisation
    /// Priority.
    case priority
}

/// One group of the survey report (R5.4): response rate and mean scores.
public struct SurveyGroup: Codable, Sendable, Hashable {
    /// The dimension grouped by.
    public var dimension: String
    /// Its value (`(none)` when unset, e.g. an unrouted case's team).
    public var key: String
    /// Period label (by the survey's send time).
    public var period: String
    /// Surveys sent.
    public var sent: Int
    /// Surveys answered.
    public var answered: Int
    /// Surveys expired unanswered.
    public var expired: Int
    /// answered / sent.
    public var responseRate: Double
    /// Mean knowledge score of the answers; absent with no answer.
    public var meanKnowledge: Double?
    /// Mean communication score.
    public var meanCommunication: Double?
    /// Mean timeliness score.
    public var meanTimeliness: Double?
}

/// One group of the SLA compliance report (R8.2): the share of cases meeting a target.
public struct SLAComplianceGroup: Codable, Sendable, Hashable {
    /// Policy name.
    public var policy: String
    /// Priority (current priority of the case).
    public var priority: String
    /// Team (`(none)` when unrouted).
    public var team: String
    /// Period label (by the case's creation time).
    public var period: String
    /// `response`, `restoration`, `resolution` or `update`.
    public var target: String
    /// Cases whose clock for this target was met without a breach.
    public var met: Int
    /// Cases whose clock breached.
    public var breached: Int
    /// Cases whose clock is still running or stopped without an outcome.
    public var pending: Int
    /// met / (met + breached); absent when no case has an outcome yet.
    public var share: Double?
}

/// Pure report computations over projection rows (issue 4 item 6).
public enum Reports {
    /// Response rate and mean scores per team, owner, organisation and priority, by period (R5.4).
    /// Groups are sorted by dimension, key, period.
    public static func surveys(_ rows: [SurveyRow], granularity: PeriodGranularity = .month,
                               dimensions: [SurveyDimension] = SurveyDimension.allCases) -> [SurveyGroup] {
        struct Acc { var sent = 0, answered = 0, expired = 0, k = 0, c = 0, t = 0 }
        var groups: [String: [String: [String: Acc]]] = [:]
        for r in rows {
            let period = granularity.label(r.sentAt)
            for d in dimensions {
                let key: String = switch d {
                case .team: r.team ?? "(none)"
                case .owner: r.owner ?? "(none)"
                case .organisation: r.organisationID
                case .priority: r.priority
                }
                var acc = groups[d.rawValue, default: [:]][key, default: [:]][period, default: Acc()]
                acc.sent += 1
                if r.answeredAt != nil {
                    acc.answered += 1
                    acc.k += r.knowledge ?? 0; acc.c += r.communication ?? 0; acc.t += r.timeliness ?? 0
                }
                if r.expiredAt != nil { acc.expired += 1 }
                groups[d.rawValue, default: [:]][key, default: [:]][period] = acc
            }
        }
        var out: [SurveyGroup] = []
        for d in groups.keys.sorted() {
            for key in (groups[d] ?? [:]).keys.sorted() {
                for (period, a) in (groups[d]?[key] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    func mean(_ sum: Int) -> Double? { a.answered == 0 ? nil : rounded(Double(sum) / Double(a.answered)) }
                    out.append(SurveyGroup(dimension: d, key: key, period: period, sent: a.sent, answered: a.answered,
                                           expired: a.expired, responseRate: rounded(Double(a.answered) / Double(a.sent)),
                                           meanKnowledge: mean(a.k), meanCommunication: mean(a.c), meanTimeliness: mean(a.t)))
                }
            }
        }
        return out
    }

    /// SLA compliance per policy, priority, team, period and target (R8.2), sorted by those.
    public static func slaCompliance(_ rows: [CaseRow], granularity: PeriodGranularity = .month) -> [SLAComplianceGroup] {
        struct Key: Hashable, Comparable {
            var policy, priority, team, period, target: String
            static func < (a: Key, b: Key) -> Bool {
                (a.policy, a.priority, a.team, a.period, a.target) < (b.policy, b.priority, b.team, b.period, b.target)
            }
        }
        var acc: [Key: (met: Int, breached: Int, pending: Int)] = [:]
        for r in rows {
            for c in r.clocks {
                let key = Key(policy: r.policy, priority: r.priority, team: r.team ?? "(none)",
                              period: granularity.label(r.createdAt), target: c.target)
                var a = acc[key] ?? (0, 0, 0)
                if c.breachedAt != nil { a.breached += 1 } else if c.metAt != nil { a.met += 1 } else { a.pending += 1 }
                acc[key] = a
            }
        }
        return acc.keys.sorted().map { k in
            let a = acc[k] ?? (0, 0, 0)
            let decided = a.met + a.breached
            return SLAComplianceGroup(policy: k.policy, priority: k.priority, team: k.team, period: k.period, target: k.target,
                                      met: a.met, breached: a.breached, pending: a.pending,
                                      share: decided == 0 ? nil : rounded(Double(a.met) / Double(decided)))
        }
    }

    /// `x` rounded to 4 decimals (stable JSON and CSV).
    static func rounded(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }

    /// One CSV field, quoted when it holds a comma, quote, CR or LF (RFC 4180).
    public static func csvField(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    /// One CSV line (no line terminator).
    public static func csvLine(_ fields: [String]) -> String { fields.map(csvField).joined(separator: ",") }

    /// The case report's CSV header (R8.1).
    /// The survey report (R5.4) as CSV lines, header first (the CLI and the HTTP API share it).
    public static func surveysCSV(_ groups: [SurveyGroup]) -> [String] {
        ["Dimension,Key,Period,Sent,Answered,Expired,Response Rate,Mean Knowledge,Mean Communication,Mean Timeliness"]
            + groups.map { g in
                csvLine([g.dimension, g.key, g.period, "\(g.sent)", "\(g.answered)", "\(g.expired)", "\(g.responseRate)",
                         g.meanKnowledge.map { "\($0)" } ?? "", g.meanCommunication.map { "\($0)" } ?? "",
                         g.meanTimeliness.map { "\($0)" } ?? ""])
            }
    }

    /// The SLA compliance report (R8.2) as CSV lines, header first.
    public static func slaCSV(_ groups: [SLAComplianceGroup]) -> [String] {
        ["Policy,Priority,Team,Period,Target,Met,Breached,Pending,Share"]
            + groups.map { g in
                csvLine([g.policy, g.priority, g.team, g.period, g.target, "\(g.met)", "\(g.breached)", "\(g.pending)",
                         g.share.map { "\($0)" } ?? ""])
            }
    }

    public static let caseCSVHeader = "Subject,Case #,Date Created,Reported By,Date Last Updated,Status,Site/URL/Acct"

    /// The case report's CSV line of `row` (R8.1).
    public static func caseCSVLine(_ row: CaseRow) -> String {
        csvLine([row.subject, row.caseNumber, DomainTime.format(row.createdAt), row.reportedBy,
                 DomainTime.format(row.lastUpdatedAt), row.status, row.site])
    }
}
