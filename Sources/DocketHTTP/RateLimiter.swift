import Foundation
import Synchronization

/// A token bucket per principal: each may send `burst` requests at once and
/// `ratePerSecond` on average. A rate of zero or less turns limiting off.
public final class RateLimiter: Sendable {
    /// How fast buckets refill and how large they are.
    public struct Configuration: Sendable, Hashable {
        /// Requests per second each principal may sustain; ≤ 0 turns limiting off.
        public var ratePerSecond: Double
        /// How many requests a principal may send at once.
        public var burst: Double

        /// Creates a configuration.
        public init(ratePerSecond: Double = 2_000, burst: Double = 4_000) {
            self.ratePerSecond = ratePerSecond
            self.burst = burst
        }
    }

    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let configuration: Configuration
    let buckets = Mutex<[String: Bucket]>([:])

    /// Creates a limiter.
    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Takes one token from `key`'s bucket: `nil` when allowed, else how long until the
    /// next token is there.
    public func take(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        let rate = configuration.ratePerSecond
        guard rate > 0 else { return nil }
        let burst = max(1, configuration.burst)
        return buckets.withLock { buckets -> Duration? in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + max(0, seconds) * rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return .seconds((1 - bucket.tokens) / rate)
        }
    }
}
