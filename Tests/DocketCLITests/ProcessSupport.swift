import Foundation

/// What a finished child process printed and how it exited.
struct ProcessOutput {
    var status: Int32
    /// `.exit` for a normal exit, `.uncaughtSignal` for a crash or kill.
    var reason: Process.TerminationReason
    var stdout: String
    var stderr: String
    /// Stdout as bytes.
    var out: Data { Data(stdout.utf8) }
    /// Non-empty stdout lines.
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// The directory holding the built products (`docket`, `docket-stress`) next to the test bundle.
func productsDirectory() -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if dir.lastPathComponent == "MacOS" || dir.pathExtension == "xctest" {
        dir = dir.deletingLastPathComponent()
    }
    return dir
}

/// The path of a built executable product.
func productPath(_ name: String) -> String {
    productsDirectory().appendingPathComponent(name).path
}

/// The repository's root directory.
func repositoryRoot(_ file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}

/// Runs `executable` with `arguments` to completion, feeding `stdin` when given.
@discardableResult
func run(_ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
         currentDirectory: String? = nil) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "DOCKET_DATA_DIR")
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    // A child may exit before reading all its input: that must be an EPIPE, not a SIGPIPE
    // that kills the test runner.
    signal(SIGPIPE, SIG_IGN)
    try process.run()
    let writer = input.fileHandleForWriting
    let feed = Data((stdin ?? "").utf8)
    Thread.detachNewThread {
        try? writer.write(contentsOf: feed)
        try? writer.close()
    }
    // Read both pipes concurrently so neither fills up and blocks the child.
    let errData = ReadAll(err.fileHandleForReading)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessOutput(status: process.terminationStatus, reason: process.terminationReason, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData.wait(), as: UTF8.self))
}

/// Runs the built `docket` tool.
@discardableResult
func docket(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
            currentDirectory: String? = nil) throws -> ProcessOutput {
    try run(productPath("docket"), arguments, stdin: stdin, environment: environment, currentDirectory: currentDirectory)
}

/// Reads a file handle to its end on a background thread.
final class ReadAll: @unchecked Sendable {
    // Safe: `data` is written once by the reader thread before `done` is signalled and read
    // only after `wait()` has observed that signal.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }
    func wait() -> Data {
        done.wait()
        return data
    }
}

/// A fresh temporary directory path (not created).
func temporaryPath(_ name: String = #function) -> String {
    NSTemporaryDirectory() + "docket-cli-\(name.filter(\.isLetter))-\(UUID().uuidString)"
}

/// Parses one line of JSON into a dictionary.
func jsonObject(_ line: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw CLITestError("not a JSON object: \(line)")
    }
    return object
}

/// A failure of a test's own plumbing.
struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Whether python3 with the `lmdb` package is available (the test command installs it).
func pythonLMDBAvailable() -> Bool {
    (try? run("/usr/bin/env", ["python3", "-c", "import lmdb"]).status) == 0
}
