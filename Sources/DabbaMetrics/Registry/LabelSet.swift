/// One label of a series, after sanitisation.
struct Label: Hashable, Sendable {
    var name: String
    var value: String
}

/// A series' labels, sorted by name: the identity of a series within its family and the order they are rendered in.
struct LabelSet: Hashable, Sendable, Comparable {
    /// Sorted by name; names are unique.
    let labels: [Label]

    static let empty = LabelSet(sorted: [])

    private init(sorted: [Label]) {
        self.labels = sorted
    }

    /// Sanitises the names (see ``MetricName/sanitizedLabelName(_:)``), drops the names in `reserved`, and sorts.
    ///
    /// If two names sanitise to the same one, the one whose original name sorts first wins.
    init(_ dictionary: [String: String], reserved: Set<String> = []) {
        var seen = Set<String>()
        var labels: [Label] = []
        for (name, value) in dictionary.sorted(by: { $0.key < $1.key }) {
            let sanitized = MetricName.sanitizedLabelName(name)
            guard !reserved.contains(sanitized), seen.insert(sanitized).inserted else { continue }
            labels.append(Label(name: sanitized, value: value))
        }
        labels.sort { $0.name < $1.name }
        self.init(sorted: labels)
    }

    /// Compares label by label (name, then value); a prefix sorts first.
    static func < (lhs: LabelSet, rhs: LabelSet) -> Bool {
        for (left, right) in zip(lhs.labels, rhs.labels) {
            if left.name != right.name { return left.name < right.name }
            if left.value != right.value { return left.value < right.value }
        }
        return lhs.labels.count < rhs.labels.count
    }
}

/// Prometheus's rules for metric and label names.
enum MetricName {
    /// Makes `name` a valid metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`: every other character becomes `_`, and a
    /// leading digit (or an empty name) gets a `_` in front.
    static func sanitizedMetricName(_ name: String) -> String {
        sanitize(name, allowColon: true)
    }

    /// Makes `name` a valid label name, `[a-zA-Z_][a-zA-Z0-9_]*`, the same way as ``sanitizedMetricName(_:)``.
    static func sanitizedLabelName(_ name: String) -> String {
        sanitize(name, allowColon: false)
    }

    private static func sanitize(_ name: String, allowColon: Bool) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            let isLetter = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
            let isDigit = ("0"..."9").contains(scalar)
            if isLetter || isDigit || scalar == "_" || (allowColon && scalar == ":") {
                scalars.append(scalar)
            } else {
                scalars.append("_")
            }
        }
        if let first = scalars.first, ("0"..."9").contains(first) {
            scalars.insert("_", at: scalars.startIndex)
        } else if scalars.isEmpty {
            scalars.append("_")
        }
        return String(scalars)
    }
}
