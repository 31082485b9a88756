import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with `posix_spawn`, for Dabba's tools, test helpers and example drivers.
///
/// Foundation's `Process.run()` is not used: on Linux (swift-corelibs-foundation in Swift 6.3.1) it lists
/// `/proc/self/fd` with a `readdir` loop that copies 256 bytes past short directory entries, and crashes the calling
/// process when such an entry ends glibc's buffer next to an unmapped page (swift-corelibs-foundation#5472). Test
/// suites that start many processes hit it every few runs.
///
/// The child gets no descriptor of this process other than its standard streams, default signal handlers for the
/// common signals and an empty signal mask (a Swift process's threads block most signals, and a mask is inherited
/// across `exec`: a child started from one would otherwise ignore SIGTERM), in a process group of its own, like
/// Foundation's `Process`.
public final class SpawnedProcess: Sendable {
    /// Where a standard stream of the child goes.
    public enum Output: Sendable {
        /// This process's own stream.
        case inherit
        /// `/dev/null`.
        case discard
        /// A file, created or truncated.
        case file(String)
        /// A file, created or appended to.
        case appending(String)
    }

    /// The child's process id.
    public let processIdentifier: pid_t
    /// The program, as given.
    public let executable: String
    /// Its arguments.
    public let arguments: [String]

    private enum State {
        /// Tasks waiting for the exit, by a number each.
        case running(waiters: [Int: CheckedContinuation<Int32?, Never>], nextWaiter: Int)
        case exited(Int32)
    }

    private let state = Mutex<State>(.running(waiters: [:], nextWaiter: 0))
    private let signaled = Atomic<Bool>(false)

    /// Starts a program.
    /// - Parameters:
    ///   - executable: The program's path.
    ///   - arguments: Its arguments (without the program itself).
    ///   - environment: Its whole environment.
    ///   - workingDirectory: Where it runs; `nil` for this process's current directory.
    ///   - input: Its standard input: these bytes, then end of file; `nil` for `/dev/null`.
    ///   - standardOutput: Where its standard output goes.
    ///   - standardError: Where its standard error goes; `nil` for the same file description as standard output
    ///     (one offset: lines stay in the order written).
    /// - Throws: ``SpawnError`` naming the program when it cannot be started.
    public init(
        executable: String,
        arguments: [String],
        environment: [String: String],
        workingDirectory: String? = nil,
        input: Data? = nil,
        standardOutput: Output = .inherit,
        standardError: Output? = .inherit
    ) throws {
        self.executable = executable
        self.arguments = arguments
        var inputPipe: (read: Int32, write: Int32)?
        if input != nil {
            var descriptors: [Int32] = [-1, -1]
            guard pipe(&descriptors) == 0 else { throw SpawnError(executable, "cannot make a pipe", errno) }
            // Both ends close on exec: the child gets the read end only as its standard input (dup2 clears the flag).
            for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
            inputPipe = (descriptors[0], descriptors[1])
        }
        defer { if let inputPipe { close(inputPipe.read) } }
        do {
            processIdentifier = try Self.spawn(
                executable: executable, arguments: arguments, environment: environment,
                workingDirectory: workingDirectory, inputDescriptor: inputPipe?.read, standardOutput: standardOutput,
                standardError: standardError
            )
        } catch {
            if let inputPipe { close(inputPipe.write) }
            throw error
        }
        if let input, let writeEnd = inputPipe?.write {
            // From a thread of its own: a large input must not block the caller while the child reads it.
            Thread.detachNewThread {
                // A child that exits without reading everything must not kill this process with SIGPIPE: blocked
                // on this thread (which the signal is directed to), the write fails with EPIPE instead.
                var pipeSignal = sigset_t()
                sigemptyset(&pipeSignal)
                sigaddset(&pipeSignal, SIGPIPE)
                pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
                input.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count, let base = bytes.baseAddress {
                        let written = write(writeEnd, base + offset, bytes.count - offset)
                        if written < 0 {
                            if errno == EINTR { continue }
                            break
                        }
                        offset += written
                    }
                }
                close(writeEnd)
            }
        }
        let pid = processIdentifier
        // Reaps the child on a thread of its own (waitpid blocks), then wakes whoever waits.
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            // Exited: its exit code; killed by a signal: the signal's number (as Foundation's terminationStatus).
            let code = status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
            signaled.store(status & 0x7f != 0, ordering: .relaxed)
            let waiters = state.withLock { state -> [CheckedContinuation<Int32?, Never>] in
                defer { state = .exited(code) }
                if case .running(let waiters, _) = state { return Array(waiters.values) }
                return []
            }
            for waiter in waiters { waiter.resume(returning: code) }
        }
    }

    /// Whether the child still runs (it has not been reaped yet).
    public var isRunning: Bool {
        state.withLock { state in
            if case .running = state { return true }
            return false
        }
    }

    /// The exit status once the child has exited (the signal number when a signal killed it), else `nil`.
    public var exitStatus: Int32? {
        state.withLock { state in
            if case .exited(let code) = state { return code }
            return nil
        }
    }

    /// Whether a signal ended the child (then ``exitStatus`` is the signal's number); false while it runs.
    public var wasKilledBySignal: Bool {
        // Stored before the state changes to exited, which the lock publishes.
        state.withLock { state in
            if case .exited = state { return signaled.load(ordering: .relaxed) }
            return false
        }
    }

    /// Sends the child a signal, unless it has already exited.
    /// - Parameter number: The signal.
    public func signal(_ number: Int32) {
        state.withLock { state in
            // Under the lock: a reaped child's pid may belong to another process already.
            if case .running = state { _ = kill(processIdentifier, number) }
        }
    }

    /// Waits until the child exits, or the waiting task is cancelled.
    /// - Returns: Its exit code, or the number of the signal that killed it; `nil` if the task was cancelled first.
    public func waitForExit() async -> Int32? {
        let waiter = state.withLock { state -> Int in
            guard case .running(let waiters, let next) = state else { return -1 }
            state = .running(waiters: waiters, nextWaiter: next + 1)
            return next
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                let immediate = state.withLock { state -> Int32?? in
                    switch state {
                    case .exited(let code):
                        return .some(code)
                    case .running(var waiters, let next):
                        if Task.isCancelled { return .some(nil) }
                        waiters[waiter] = continuation
                        state = .running(waiters: waiters, nextWaiter: next)
                        return .none
                    }
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> CheckedContinuation<Int32?, Never>? in
                guard case .running(var waiters, let next) = state, let continuation = waiters.removeValue(forKey: waiter)
                else { return nil }
                state = .running(waiters: waiters, nextWaiter: next)
                return continuation
            }
            cancelled?.resume(returning: nil)
        }
    }

    /// Waits (blocking the calling thread) until the child exits. Only for synchronous contexts.
    /// - Returns: Its exit code, or the number of the signal that killed it.
    public func waitForExitBlocking() -> Int32 {
        while true {
            if let code = exitStatus { return code }
            usleep(1000)
        }
    }

    // MARK: - Spawning

    private static func spawn(
        executable: String,
        arguments: [String],
        environment: [String: String],
        workingDirectory: String?,
        inputDescriptor: Int32?,
        standardOutput: Output,
        standardError: Output?
    ) throws -> pid_t {
        #if canImport(Darwin)
            var actions: posix_spawn_file_actions_t? = nil
            var attributes: posix_spawnattr_t? = nil
        #else
            var actions = posix_spawn_file_actions_t()
            var attributes = posix_spawnattr_t()
        #endif
        try check(executable, "posix_spawn_file_actions_init", posix_spawn_file_actions_init(&actions))
        defer { posix_spawn_file_actions_destroy(&actions) }
        try check(executable, "posix_spawnattr_init", posix_spawnattr_init(&attributes))
        defer { posix_spawnattr_destroy(&attributes) }

        // Standard input.
        if let inputDescriptor {
            try check(executable, "dup2 stdin", posix_spawn_file_actions_adddup2(&actions, inputDescriptor, 0))
        } else {
            try check(
                executable, "open /dev/null", posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            )
        }
        // Standard output, then standard error (possibly a copy of standard output).
        try addOutput(standardOutput, descriptor: 1, to: &actions, executable: executable)
        if let standardError {
            try addOutput(standardError, descriptor: 2, to: &actions, executable: executable)
        } else {
            try check(executable, "dup2 stderr", posix_spawn_file_actions_adddup2(&actions, 1, 2))
        }
        if let workingDirectory {
            guard let addChdir = SpawnFunctions.addChdir else {
                throw SpawnError(executable, "this C library cannot set a child's working directory", ENOSYS)
            }
            try check(executable, "chdir \(workingDirectory)", addChdir(&actions, workingDirectory))
        }

        var flags = Int32(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        #if canImport(Darwin)
            // Every descriptor but the standard streams closes in the child.
            flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #else
            try closeInheritedDescriptors(&actions, executable: executable)
        #endif
        try check(executable, "posix_spawnattr_setflags", posix_spawnattr_setflags(&attributes, Int16(flags)))
        try check(executable, "posix_spawnattr_setpgroup", posix_spawnattr_setpgroup(&attributes, 0))
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        try check(executable, "posix_spawnattr_setsigmask", posix_spawnattr_setsigmask(&attributes, &noSignals))
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&defaults, number)
        }
        try check(executable, "posix_spawnattr_setsigdefault", posix_spawnattr_setsigdefault(&attributes, &defaults))

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result: Int32 = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                guard let argvStart = argvBuffer.baseAddress, let envpStart = envpBuffer.baseAddress else { return EINVAL }
                return ChildStartGate.startingChild {
                    posix_spawn(&pid, executable, &actions, &attributes, argvStart, envpStart)
                }
            }
        }
        guard result == 0 else { throw SpawnError(executable, "cannot start it", result) }
        return pid
    }

    #if canImport(Darwin)
        private typealias FileActions = posix_spawn_file_actions_t?
    #else
        private typealias FileActions = posix_spawn_file_actions_t
    #endif

    private static func addOutput(
        _ output: Output, descriptor: Int32, to actions: inout FileActions, executable: String
    ) throws {
        switch output {
        case .inherit:
            return
        case .discard:
            try check(
                executable, "open /dev/null",
                posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
            )
        case .file(let path):
            try check(
                executable, "open \(path)",
                posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            )
        case .appending(let path):
            try check(
                executable, "open \(path)",
                posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            )
        }
    }

    #if !canImport(Darwin)
        /// Closes every descriptor above the standard streams in the child: with `closefrom` where the C library
        /// has it (glibc 2.34+), else one by one from the list in `/proc/self/fd`.
        private static func closeInheritedDescriptors(_ actions: inout FileActions, executable: String) throws {
            if let addClosefrom = SpawnFunctions.addClosefrom {
                try check(executable, "closefrom", addClosefrom(&actions, 3))
                return
            }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            for descriptor in names.compactMap({ Int32($0) }) where descriptor > 2 {
                // Closing a descriptor that is gone by the time the child runs fails the spawn on some C
                // libraries: only those still open now are listed, and the list is read just before spawning.
                guard fcntl(descriptor, F_GETFD) >= 0 else { continue }
                try check(executable, "close \(descriptor)", posix_spawn_file_actions_addclose(&actions, descriptor))
            }
        }
    #endif

    private static func check(_ executable: String, _ step: String, _ result: Int32) throws {
        guard result == 0 else { throw SpawnError(executable, step, result) }
    }
}

/// `posix_spawn` extensions looked up at run time (not every C library has them, and Swift's Glibc module does
/// not export them).
private enum SpawnFunctions {
    #if canImport(Darwin)
        typealias AddChdir = @convention(c) (
            UnsafeMutablePointer<posix_spawn_file_actions_t?>, UnsafePointer<CChar>
        ) -> Int32
    #else
        typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

        static let addClosefrom: AddClosefrom? = lookUp("posix_spawn_file_actions_addclosefrom_np")
    #endif

    static let addChdir: AddChdir? = lookUp("posix_spawn_file_actions_addchdir_np")

    private static func lookUp<Function>(_ name: String) -> Function? {
        #if canImport(Darwin)
            let handle = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #else
            let handle: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
        #endif
        guard let symbol = dlsym(handle, name) else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }
}

/// A child process that could not be started.
public struct SpawnError: Error, CustomStringConvertible, Sendable {
    /// The program.
    public let executable: String
    /// The system's error number (`errno`).
    public let code: Int32
    /// What failed, with the system's reason.
    public let description: String

    init(_ executable: String, _ step: String, _ code: Int32) {
        self.executable = executable
        self.code = code
        description = "\(executable): \(step): \(String(cString: strerror(code)))"
    }
}
