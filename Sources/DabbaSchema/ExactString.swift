import Foundation

/// A string compared and hashed by its exact Unicode code points.
///
/// Swift's `String ==` uses canonical equivalence, so `"é"` (U+00E9) equals
/// `"e\u{301}"`. JSON (RFC 8259 §8.3) and JSON Schema compare strings code
/// point by code point, so object keys and string values use this instead.
struct ExactString: Hashable, Sendable {
    let string: String

    init(_ string: String) {
        self.string = string
    }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.string.hasSameCodePoints(as: rhs.string)
    }

    func hash(into hasher: inout Hasher) {
        var copy = string
        // withUTF8 is O(1) for native strings; it only copies bridged ones.
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension String {
    /// Code-point (equivalently, UTF-8 byte) equality, without Unicode
    /// canonical equivalence.
    func hasSameCodePoints(as other: String) -> Bool {
        let left = utf8
        let right = other.utf8
        // utf8.count is O(1) for native strings and rejects most mismatches.
        guard left.count == right.count else { return false }
        let compared = left.withContiguousStorageIfAvailable { leftBytes in
            right.withContiguousStorageIfAvailable { rightBytes in
                guard let leftBase = leftBytes.baseAddress, let rightBase = rightBytes.baseAddress else {
                    return true  // both empty (counts are equal)
                }
                return memcmp(leftBase, rightBase, leftBytes.count) == 0
            }
        }
        // Bridged strings may lack contiguous UTF-8; compare by iteration then.
        return (compared ?? nil) ?? left.elementsEqual(right)
    }
}
