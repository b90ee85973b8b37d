import CommandHandling
import Crypto
import EventLog
import Foundation
import LMDB
import Logging
import Synchronization

/// A stored bearer token: its public id, whom it stands for, and its life. The secret is
/// never stored, only its SHA-256 (the database key).
public struct TokenRecord: Codable, Sendable, Hashable {
    /// Public identifier, `tok_` and 16 hex digits; used to list and revoke.
    public var id: String
    /// Whom the token stands for.
    public var principal: Caller
    /// A free-text note (who holds it, what for).
    public var label: String?
    /// When it was created, ISO 8601 UTC.
    public var createdAt: String
    /// When it was revoked, ISO 8601 UTC; `nil` while valid.
    public var revokedAt: String?
}

/// Bearer tokens in the LMDB named database `tokens` of the log's environment
/// (schemas/storage.md "tokens"): key = SHA-256 of the secret (32 bytes), value = the
/// ``TokenRecord`` as JSON. Writes go through the environment's one writer thread.
///
/// Authentication results are cached in memory for ``cacheLifetime``, keyed by the secret's
/// SHA-256 (decoding the record on every request cost a tenth of a query). A revocation
/// through this store takes effect at once: it empties the cache after its commit, and a
/// lookup that read the database before that commit does not store its (stale) result. A
/// revocation by another process (`docket token revoke` while the server runs) takes effect
/// within ``cacheLifetime``.
public final class TokenStore: Sendable {
    /// How long an authentication result is reused.
    public static let cacheLifetime: Duration = .seconds(1)
    /// This store's ``cacheLifetime`` (tests shorten it).
    let cacheLifetime: Duration
    /// Most cached results; the cache is emptied when it would grow beyond.
    static let cacheLimit = 10_000

    struct CacheEntry {
        var caller: Caller?
        var expires: ContinuousClock.Instant
    }
    struct Cache {
        var entries: [Digest: CacheEntry] = [:]
        /// Counts revocations; a lookup stores its result only when none happened meanwhile.
        var generation: UInt64 = 0
    }
    let cache = Mutex(Cache())

    /// A secret's SHA-256 as four words: a cheap dictionary key (hashing a `[UInt8]` hashes
    /// byte by byte).
    struct Digest: Hashable {
        var a: UInt64, b: UInt64, c: UInt64, d: UInt64

        init(_ digest: SHA256.Digest) {
            (a, b, c, d) = digest.withUnsafeBytes { raw in
                (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            }
        }

        /// The 32 bytes, the database key.
        var bytes: [UInt8] {
            withUnsafeBytes(of: (a, b, c, d)) { Array($0) }
        }
    }

    /// Name of the LMDB database.
    public static let databaseName = "tokens"
    /// Prefix of every secret, so a leaked one is recognisable.
    public static let secretPrefix = "dkt_"

    let log: EventLog
    let database: Database

    private init(log: EventLog, database: Database, cacheLifetime: Duration) {
        self.log = log
        self.database = database
        self.cacheLifetime = cacheLifetime
    }

    /// Opens (creating when missing) the `tokens` database in `log`'s environment.
    public static func open(log: EventLog) async throws -> TokenStore {
        try await open(log: log, cacheLifetime: cacheLifetime)
    }

    /// ``open(log:)`` with authentication results reused for `cacheLifetime`.
    static func open(log: EventLog, cacheLifetime: Duration) async throws -> TokenStore {
        let database = try await log.writer.perform { context in
            try context.openDatabase(named: databaseName)
        }
        return TokenStore(log: log, database: database, cacheLifetime: cacheLifetime)
    }

    /// Creates a token for `principal` and returns its record and secret. The secret is
    /// shown only here; afterwards only its hash exists.
    ///
    /// A contact's token is issued only while the contact is on its organisation's current
    /// contact list (R1.10); the record notes the access level and incident-report grant the
    /// list holds now (for listings: what the contact may do is read from the list whenever it
    /// acts). A claimed `access` or `incidentReport` that the list contradicts is refused,
    /// so that nobody believes a token grants more than the list does.
    ///
    /// - Throws: ``CallerError`` for a principal that does not fit its kind,
    ///   ``TokenStoreError`` (`notOnContactList`) for a contact the list does not hold as claimed.
    public func create(for principal: Caller, label: String?, now: Date = Date()) async throws -> (record: TokenRecord, secret: String) {
        var principal = try principal.validated()
        if principal.kind == .contact, let organisation = principal.organisationId {
            guard let contact = try ContactList.contact(principal.id, of: organisation, in: log) else {
                throw TokenStoreError(.notOnContactList, "contact \(principal.id) is not on the contact list of organisation \(organisation); add the contact with add-contact first, then issue the token")
            }
            if let claimed = principal.access, claimed != contact.access {
                throw TokenStoreError(.notOnContactList, "contact \(principal.id) is \(contact.access.rawValue) in organisation \(organisation), not \(claimed.rawValue); leave the access level out (the contact list decides it) or change it with change-contact-access")
            }
            if principal.incidentReport == true, !contact.incidentReport {
                throw TokenStoreError(.notOnContactList, "contact \(principal.id) of organisation \(organisation) does not hold incident-report access; grant it with set-incident-report-access first")
            }
            principal.access = contact.access
            principal.incidentReport = contact.incidentReport ? true : nil
        }
        var random = SystemRandomNumberGenerator()
        let secretBytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let secret = Self.secretPrefix + base64URL(secretBytes)
        let id = "tok_" + (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        let record = TokenRecord(id: id, principal: principal, label: label, createdAt: iso8601(now), revokedAt: nil)
        let key = Self.hash(secret).bytes
        let value = try Self.encoder.encode(record)
        let database = database
        try await log.writer.perform { context in
            try context.transaction { txn in
                try txn.put(database, key: key, value: Array(value), flags: .noOverwrite)
            }
        }
        return (record, secret)
    }

    /// Every token, valid and revoked, ordered by creation time then id.
    public func list() throws -> [TokenRecord] {
        let database = database
        let values: [Data] = try log.environment.read { txn in
            try txn.withCursor(database) { cursor in
                var out: [Data] = []
                var next = try cursor.get(.first)
                while let entry = next {
                    out.append(Data(entry.value))
                    next = try cursor.get(.next)
                }
                return out
            }
        }
        return try values.map { try JSONDecoder().decode(TokenRecord.self, from: $0) }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Whether no token exists yet (a fresh data directory).
    public func isEmpty() throws -> Bool {
        try log.environment.entryCount(database) == 0
    }

    /// Revokes the token with `id`; returns its record, or `nil` when there is none.
    /// Revoking twice keeps the first revocation time. The last valid admin token is not
    /// revoked: that would leave nobody able to manage tokens over HTTP; it throws
    /// ``TokenStoreError/Code/lastAdminToken`` instead. The check and the revocation happen in
    /// one write transaction, so two concurrent revocations of the last two admin tokens
    /// cannot both succeed.
    public func revoke(id: String, now: Date = Date()) async throws -> TokenRecord? {
        let database = database
        let revokedAt = iso8601(now)
        let revoked = try await log.writer.perform { context in
            try context.transaction { txn -> TokenRecord? in
                let (found, validAdmins): ((key: [UInt8], record: TokenRecord)?, Int) = try txn.withCursor(database) { cursor in
                    var match: (key: [UInt8], record: TokenRecord)?
                    var admins = 0
                    var next = try cursor.get(.first)
                    while let entry = next {
                        let record = try JSONDecoder().decode(TokenRecord.self, from: Data(entry.value))
                        if record.id == id { match = (Array(entry.key), record) }
                        if record.principal.kind == .admin && record.revokedAt == nil { admins += 1 }
                        next = try cursor.get(.next)
                    }
                    return (match, admins)
                }
                guard let (key, found) = found else { return nil }
                var record = found
                if record.revokedAt == nil {
                    if record.principal.kind == .admin && validAdmins <= 1 {
                        throw TokenStoreError(.lastAdminToken,
                                              "\(id) is the last valid admin token: revoking it would leave nobody able to manage tokens; create another admin token first (POST /v1/tokens, or docket token create --kind admin), then revoke this one")
                    }
                    record.revokedAt = revokedAt
                    try txn.put(database, key: key, value: Array(try Self.encoder.encode(record)))
                }
                return record
            }
        }
        // After the commit: a lookup from now on reads the revocation; one that read the
        // database before sees the generation changed and does not cache its result.
        if revoked != nil {
            cache.withLock { cache in
                cache.entries.removeAll()
                cache.generation &+= 1
            }
        }
        return revoked
    }

    /// The principal of a valid token `secret`, or `nil` when it is unknown or revoked.
    public func authenticate(secret: String) throws -> Caller? {
        try authenticate(secret: Substring(secret))
    }

    /// ``authenticate(secret:)`` of a secret within a longer string (the `Authorization` header).
    func authenticate(secret: Substring) throws -> Caller? {
        // Bytes, not characters: `hasPrefix` on a substring compares grapheme by grapheme.
        guard secret.utf8.starts(with: Self.secretPrefix.utf8), secret.utf8.count < 200 else { return nil }
        let key = Self.hash(secret)
        let now = ContinuousClock.now
        let (hit, generation) = cache.withLock { cache in (cache.entries[key], cache.generation) }
        if let hit, hit.expires > now { return hit.caller }
        let caller = try lookUp(key.bytes)
        cache.withLock { cache in
            guard cache.generation == generation else { return }  // revoked meanwhile: this result may be stale
            if cache.entries.count >= Self.cacheLimit { cache.entries.removeAll() }
            cache.entries[key] = CacheEntry(caller: caller, expires: now + cacheLifetime)
        }
        return caller
    }

    /// The principal of the valid token stored under `key`, read from the database.
    private func lookUp(_ key: [UInt8]) throws -> Caller? {
        let database = database
        let data: Data? = try log.environment.read { txn in
            try txn.get(database, key: key).map { Data($0) }
        }
        guard let data else { return nil }
        let record = try JSONDecoder().decode(TokenRecord.self, from: data)
        return record.revokedAt == nil ? record.principal : nil
    }

    /// SHA-256 of the secret's UTF-8 bytes: the database key.
    static func hash(_ secret: some StringProtocol) -> Digest {
        var hasher = SHA256()
        let hashed: Void? = secret.utf8.withContiguousStorageIfAvailable { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if hashed == nil { hasher.update(data: Array(secret.utf8)) }
        return Digest(hasher.finalize())
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// A token operation the store refused.
public struct TokenStoreError: Error, CustomStringConvertible, Sendable {
    /// Why it was refused.
    public enum Code: String, Sendable {
        /// The token is the last valid admin token (`last-admin-token`).
        case lastAdminToken = "last-admin-token"
        /// A contact token for a contact its organisation's list does not hold as claimed (`not-on-contact-list`, R1.10).
        case notOnContactList = "not-on-contact-list"
    }
    /// Why it was refused.
    public var code: Code
    /// What was wrong and what would be right.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// Unpadded base64url.
func base64URL(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC.
func iso8601(_ date: Date) -> String {
    date.formatted(.iso8601)
}
