#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory figures `dabba bench` reports.
enum ProcessMemory {
    /// The process's peak resident set size so far, in bytes.
    ///
    /// On Linux this is `VmHWM` from `/proc/self/status`, the high-water mark of this program's own address space.
    /// (`getrusage`'s `ru_maxrss` would not do for a child process: Linux carries the parent's peak across
    /// fork and exec, so a benchmark child would report the broker-hosting parent's RSS.)
    static var peakResidentBytes: Int {
        #if os(Linux)
        if let kilobytes = statusField("VmHWM:") { return kilobytes * 1024 }
        #endif
        var usage = rusage()
        #if canImport(Glibc)
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss)  // bytes on macOS
        #endif
    }

    /// The process's resident set size now (`VmRSS`), in bytes; nil where it cannot be read.
    static var currentResidentBytes: Int? {
        #if os(Linux)
        return statusField("VmRSS:").map { $0 * 1024 }
        #else
        return nil
        #endif
    }

    #if os(Linux)
    /// A `kB` field of `/proc/self/status`, such as `VmHWM:` or `VmRSS:`.
    private static func statusField(_ name: String) -> Int? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 256)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard line.hasPrefix(name) else { continue }
            return Int(line.dropFirst(name.count).filter(\.isNumber))
        }
        return nil
    }
    #endif
}
