import Foundation

/// One measured figure: `count` operations took `seconds`.
struct Measurement {
    var name: String
    var count: Int
    var seconds: Double
    var rate: Double { Double(count) / seconds }
}

/// A benchmark suite: a name and a function that runs its benchmarks and prints figures.
struct BenchSuite {
    var name: String
    var run: () async throws -> Void
}

/// Monotonic wall time in seconds.
/// CPU seconds (user + system) this process has used so far, all threads: with the machine
/// shared, CPU per operation is steadier than wall-clock rates.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

@inline(__always) func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` (which performs `count` operations) `repeats` times and keeps the best run.
func measure(_ name: String, count: Int, repeats: Int = 5, _ body: () throws -> Void) rethrows -> Measurement {
    var best = Double.infinity
    for _ in 0..<repeats {
        let t0 = now()
        try body()
        best = min(best, now() - t0)
    }
    return Measurement(name: name, count: count, seconds: best)
}

/// Percentile (0...100) of a list of samples.
func percentile(_ samples: [Double], _ p: Double) -> Double {
    guard !samples.isEmpty else { return .nan }
    let sorted = samples.sorted()
    let index = min(sorted.count - 1, Int((p / 100 * Double(sorted.count - 1)).rounded(.up)))
    return sorted[index]
}

/// Prints a figure with its rate, and its ratio to a baseline from the same run when given.
func report(_ m: Measurement, baseline: Measurement? = nil, unit: String = "ops") {
    var line = String(format: "  %-52@ %12.0f %@/s  (%d in %.3f s)", m.name as NSString, m.rate, unit as NSString, m.count, m.seconds)
    if let baseline {
        line += String(format: "  ratio to %@: %.6f", baseline.name as NSString, m.rate / baseline.rate)
    }
    print(line)
}

/// Memory-bound baseline that every suite can compare against: summing a large array.
func baselineSum(count: Int = 50_000_000) -> Measurement {
    let values = [UInt64](repeating: 3, count: 1_000_000)
    var sink: UInt64 = 0
    let m = measure("baseline: sum of UInt64 array", count: count) {
        for _ in 0..<(count / values.count) {
            for v in values { sink &+= v }
        }
    }
    if sink == 42 { print("") }
    return m
}
