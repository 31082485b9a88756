/// An ordered, string-keyed JSON object.
///
/// Keys keep their first-insertion order so re-encoding a parsed document is
/// stable. Equality and hashing ignore order, as in the JSON data model.
/// Keys are compared by exact code points (RFC 8259), not Swift's canonical
/// string equivalence. Lookups in small objects (the common case for events)
/// scan the keys, which beats hashing; larger objects keep a hash index.
/// Removal is O(n).
public struct JSONObject: Sendable {
    /// Objects with more members than this get a hash index.
    private static let indexThreshold = 12

    private var orderedKeys: [String]
    private var orderedValues: [JSONValue]
    private var positions: [ExactString: Int]?

    /// Creates an empty object.
    public init() {
        orderedKeys = []
        orderedValues = []
        positions = nil
    }

    /// Creates an object from key/value pairs in order. For a repeated key the
    /// last value wins but the key keeps its first position (like JSON parsers
    /// that accept duplicate names).
    public init(_ pairs: [(key: String, value: JSONValue)]) {
        self.init()
        orderedKeys.reserveCapacity(pairs.count)
        orderedValues.reserveCapacity(pairs.count)
        for pair in pairs {
            self[pair.key] = pair.value
        }
    }

    /// The keys in insertion order.
    public var keys: [String] { orderedKeys }

    /// The values in key insertion order.
    public var values: [JSONValue] { orderedValues }

    /// The number of members.
    public var count: Int { orderedKeys.count }

    /// `true` if the object has no members.
    public var isEmpty: Bool { orderedKeys.isEmpty }

    /// Reads, replaces, appends (new keys go last) or, when assigned `nil`,
    /// removes a member.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = position(of: key) else { return nil }
            return orderedValues[position]
        }
        set {
            if let newValue {
                if let position = position(of: key) {
                    orderedValues[position] = newValue
                } else {
                    orderedKeys.append(key)
                    orderedValues.append(newValue)
                    if positions != nil {
                        positions?[ExactString(key)] = orderedKeys.count - 1
                    } else if orderedKeys.count > Self.indexThreshold {
                        rebuildIndex()
                    }
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// `true` if `key` is a member.
    public func contains(key: String) -> Bool {
        position(of: key) != nil
    }

    /// Removes a member, returning its value if it was present.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = position(of: key) else { return nil }
        orderedKeys.remove(at: position)
        let removed = orderedValues.remove(at: position)
        if positions != nil {
            rebuildIndex()
        }
        return removed
    }

    private func position(of key: String) -> Int? {
        if let positions {
            return positions[ExactString(key)]
        }
        return orderedKeys.firstIndex { $0.hasSameCodePoints(as: key) }
    }

    private mutating func rebuildIndex() {
        guard orderedKeys.count > Self.indexThreshold else {
            positions = nil
            return
        }
        var index: [ExactString: Int] = [:]
        index.reserveCapacity(orderedKeys.count)
        for (position, key) in orderedKeys.enumerated() {
            index[ExactString(key)] = position
        }
        positions = index
    }
}

extension JSONObject: Sequence {
    /// Iterates `(key, value)` pairs in insertion order.
    public struct Iterator: IteratorProtocol {
        private let object: JSONObject
        private var index = 0

        fileprivate init(_ object: JSONObject) {
            self.object = object
        }

        /// The next member, or `nil` at the end.
        public mutating func next() -> (key: String, value: JSONValue)? {
            guard index < object.orderedKeys.count else { return nil }
            defer { index += 1 }
            return (object.orderedKeys[index], object.orderedValues[index])
        }
    }

    /// Returns an iterator over the members in insertion order.
    public func makeIterator() -> Iterator {
        Iterator(self)
    }

    /// The member count, so `Array(object)` reserves exactly.
    public var underestimatedCount: Int { orderedKeys.count }
}

extension JSONObject: Hashable {
    /// Order-insensitive equality: same key set and equal values per key.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (index, key) in lhs.orderedKeys.enumerated() {
            guard let other = rhs[key], other == lhs.orderedValues[index] else { return false }
        }
        return true
    }

    /// Order-insensitive hash: members are hashed individually and combined
    /// with a commutative sum.
    public func hash(into hasher: inout Hasher) {
        var sum = 0
        for (index, key) in orderedKeys.enumerated() {
            var member = Hasher()
            member.combine(key)
            member.combine(orderedValues[index])
            sum &+= member.finalize()
        }
        hasher.combine(count)
        hasher.combine(sum)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Creates an object keeping the literal's key order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}

extension JSONObject: CustomStringConvertible {
    /// Compact JSON text of the object.
    public var description: String {
        JSONValue.object(self).description
    }
}
