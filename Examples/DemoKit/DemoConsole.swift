import Foundation

/// A demo's output: steps, notes and progress lines, written at once (no buffering, so they show when piped
/// through `make`).
public enum DemoConsole {
    /// Writes a line to standard output.
    /// - Parameter line: The line, without its newline.
    public static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Announces a step of the demo (`== Starting the embedded broker …`).
    /// - Parameter text: What the step does.
    public static func step(_ text: String) {
        say("\n== \(text)")
    }

    /// A detail of the current step, indented.
    /// - Parameter text: The detail.
    public static func note(_ text: String) {
        say("   \(text)")
    }

    /// A progress line: the time since the start, then the parts (`placed 12 · ready 3`), then extra text.
    /// - Parameters:
    ///   - elapsed: Time since the run started.
    ///   - parts: `name count` pairs, in display order; empty counts are left out.
    ///   - suffix: Anything to add after the parts (`| dead letters 2`).
    public static func progress(elapsed: Duration, parts: [(String, Int)], suffix: String = "") {
        let shown = parts.filter { $0.1 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: " · ")
        say("  \(String(format: "%5.1f", seconds(elapsed)))s  \(shown)\(suffix.isEmpty ? "" : "  \(suffix)")")
    }

    /// A duration in seconds, as a floating-point number.
    /// - Parameter duration: The duration.
    /// - Returns: Its length in seconds.
    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
