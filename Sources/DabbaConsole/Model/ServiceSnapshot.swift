import Foundation

/// What a service's HTTP endpoint said at the last sample: readiness, liveness, its Prometheus metrics and its flow
/// state (breakers, pauses).
struct ServiceSnapshot: Sendable {
    var url: URL
    var takenAt: Date
    var ready: (ok: Bool, reason: String)?
    var health: (ok: Bool, reason: String)?
    /// Samples of the metrics: name → label set → value.
    var metrics: [PrometheusSample]
    /// The `/flow` document, as JSON text.
    var flow: String?
    /// Why the endpoint could not be read, if it could not.
    var failure: String?

    /// Whether the instance answers and is ready.
    var isReady: Bool { failure == nil && ready?.ok == true }

    /// A quantile of a histogram (`name_bucket{le=…}` summed over label sets): the upper bound of the first bucket
    /// that holds that share of the observations; nil without observations.
    func quantile(_ q: Double, of name: String) -> Double? {
        var buckets: [Double: Double] = [:]
        for sample in metrics where sample.name == name + "_bucket" {
            guard let bound = sample.labels["le"].flatMap({ $0 == "+Inf" ? Double.infinity : Double($0) }) else { continue }
            buckets[bound, default: 0] += sample.value
        }
        guard let total = buckets[.infinity], total > 0 else { return nil }
        return buckets.keys.sorted().first { (buckets[$0] ?? 0) >= q * total }
    }

    /// The sum of a metric's samples whose labels include `matching`.
    func total(_ name: String, matching: [String: String] = [:]) -> Double? {
        let values = metrics.filter { sample in
            sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value }
        }.map(\.value)
        return values.isEmpty ? nil : values.reduce(0, +)
    }
}

/// One line of the Prometheus text format: `name{label="value",…} value`.
struct PrometheusSample: Sendable, Hashable {
    var name: String
    var labels: [String: String]
    var value: Double

    /// Parses the text exposition format, skipping comments and lines it cannot read.
    static func parse(_ text: String) -> [PrometheusSample] {
        text.split(separator: "\n").compactMap { line in
            let line = line.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
            var name = Substring(line)
            var labels: [String: String] = [:]
            var rest: Substring
            if let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}"), open < close {
                name = line[..<open]
                labels = parseLabels(line[line.index(after: open)..<close])
                rest = line[line.index(after: close)...]
            } else {
                guard let space = line.firstIndex(of: " ") else { return nil }
                name = line[..<space]
                rest = line[space...]
            }
            let fields = rest.split(separator: " ")
            guard let first = fields.first, let value = Double(first) else { return nil }
            return PrometheusSample(name: String(name), labels: labels, value: value)
        }
    }

    private static func parseLabels(_ text: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var index = text.startIndex
        while index < text.endIndex {
            guard let equals = text[index...].firstIndex(of: "=") else { break }
            let name = text[index..<equals].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
            var cursor = text.index(after: equals)
            guard cursor < text.endIndex, text[cursor] == "\"" else { break }
            cursor = text.index(after: cursor)
            var value = ""
            while cursor < text.endIndex, text[cursor] != "\"" {
                if text[cursor] == "\\", text.index(after: cursor) < text.endIndex {
                    cursor = text.index(after: cursor)
                    value.append(text[cursor] == "n" ? "\n" : text[cursor])
                } else {
                    value.append(text[cursor])
                }
                cursor = text.index(after: cursor)
            }
            labels[name] = value
            index = cursor < text.endIndex ? text.index(after: cursor) : cursor
        }
        return labels
    }
}
