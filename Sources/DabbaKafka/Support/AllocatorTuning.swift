#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Process-wide settings of the C allocator that suit Kafka clients, applied by Dabba's executables (`dabba` and
/// every `PipelineService`) at start; call ``apply()`` first thing in other executables to get the same.
///
/// A consumer allocates and frees many small blocks per record: librdkafka parses each record's headers into one
/// allocation per header, and frees them all when the fetch batch is released. glibc keeps such blocks in
/// "fastbins" and consolidates them in bursts (on the next large allocation or free), which made those bursts the
/// largest single cost of consuming CloudEvents records (about a quarter of the fetch thread). ``apply()`` turns
/// fastbins off (`mallopt(M_MXFAST, 0)`): freed blocks are merged at once instead, and the per-thread cache keeps
/// serving the common sizes. Measured with `dabba bench`: +20–30 % on typed consume and the pipeline, neutral on
/// raw byte consume.
///
/// It only applies to glibc (Linux); elsewhere it does nothing. Set `DABBA_MALLOC_DEFAULTS=1` in the environment
/// to leave the allocator as it is.
public enum AllocatorTuning {
    /// Applies the settings once per process (later calls do nothing).
    /// - Returns: Whether the settings are in effect (false off glibc or when opted out).
    @discardableResult
    public static func apply() -> Bool { applied }

    private static let applied: Bool = {
        guard ProcessInfo.processInfo.environment["DABBA_MALLOC_DEFAULTS"] != "1" else { return false }
        #if canImport(Glibc)
        // Looked up at run time: `mallopt` is glibc's own (Swift's Glibc module does not export it).
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        // M_MXFAST (1 in glibc's malloc.h): the largest request served from fastbins; 0 disables them.
        return mallopt(1, 0) == 1
        #else
        return false
        #endif
    }()
}
