/// A metric family as rendered: its samples read from instruments, callbacks and collectors.
struct ExposedFamily: Sendable {
    enum Sample: Sendable, Equatable {
        case integer(Int)
        case double(Double)
        case histogram(Histogram.Snapshot)
    }

    var name: String
    var help: String
    var type: MetricType
    var samples: [LabelSet: Sample]
}

/// Writes families in the Prometheus text exposition format 0.0.4.
///
/// See https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format.
enum PrometheusTextEncoder {
    /// Renders `families` in the given order, each family's series sorted by labels.
    static func encode(_ families: [ExposedFamily]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(families.reduce(0) { $0 + $1.samples.count } * 64)
        for family in families where !family.samples.isEmpty {
            output.append(contentsOf: "# HELP ".utf8)
            output.append(contentsOf: family.name.utf8)
            output.append(UInt8(ascii: " "))
            appendEscaped(family.help, quotes: false, to: &output)
            output.append(contentsOf: "\n# TYPE ".utf8)
            output.append(contentsOf: family.name.utf8)
            output.append(UInt8(ascii: " "))
            output.append(contentsOf: family.type.description.utf8)
            output.append(UInt8(ascii: "\n"))
            for (labels, sample) in family.samples.sorted(by: { $0.key < $1.key }) {
                switch sample {
                case .integer(let value):
                    writeLine(&output, family.name, suffix: "", labels.labels, String(value))
                case .double(let value):
                    writeLine(&output, family.name, suffix: "", labels.labels, PrometheusFloat.format(value))
                case .histogram(let snapshot):
                    writeHistogram(&output, family.name, labels.labels, snapshot)
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func writeHistogram(
        _ output: inout [UInt8],
        _ name: String,
        _ labels: [Label],
        _ snapshot: Histogram.Snapshot
    ) {
        let bounds = snapshot.upperBounds.map(PrometheusFloat.format) + ["+Inf"]
        var bucketLabels = labels
        bucketLabels.append(Label(name: "le", value: ""))
        for (bound, count) in zip(bounds, snapshot.cumulativeCounts) {
            bucketLabels[bucketLabels.count - 1].value = bound
            writeLine(&output, name, suffix: "_bucket", bucketLabels, String(count))
        }
        writeLine(&output, name, suffix: "_sum", labels, PrometheusFloat.format(snapshot.sum))
        writeLine(&output, name, suffix: "_count", labels, String(snapshot.count))
    }

    private static func writeLine(
        _ output: inout [UInt8],
        _ name: String,
        suffix: StaticString,
        _ labels: [Label],
        _ value: String
    ) {
        output.append(contentsOf: name.utf8)
        suffix.withUTF8Buffer { output.append(contentsOf: $0) }
        if !labels.isEmpty {
            output.append(UInt8(ascii: "{"))
            for (index, label) in labels.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                output.append(contentsOf: label.name.utf8)
                output.append(contentsOf: "=\"".utf8)
                appendEscaped(label.value, quotes: true, to: &output)
                output.append(UInt8(ascii: "\""))
            }
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: " "))
        output.append(contentsOf: value.utf8)
        output.append(UInt8(ascii: "\n"))
    }

    /// Escapes a label value: backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String) -> String {
        var output: [UInt8] = []
        appendEscaped(value, quotes: true, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Escapes `# HELP` text: backslash and line feed (quotes are literal there).
    static func escapeHelp(_ help: String) -> String {
        var output: [UInt8] = []
        appendEscaped(help, quotes: false, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends `text` as UTF-8, with `\` → `\\`, line feed → `\n` and, if `quotes`, `"` → `\"`.
    private static func appendEscaped(_ text: String, quotes: Bool, to output: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\"") where quotes: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            default: output.append(byte)
            }
        }
    }
}
