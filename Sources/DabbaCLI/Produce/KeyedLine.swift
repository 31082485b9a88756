/// Splits an input line into key and value at the first occurrence of a separator (kcat's `-K`).
enum KeyedLine {
    /// The key and value of `line`, or nil if `separator` does not occur in it.
    static func split(_ line: [UInt8], separator: [UInt8]) -> (key: [UInt8], value: [UInt8])? {
        guard !separator.isEmpty, line.count >= separator.count else { return nil }
        var index = 0
        while index + separator.count <= line.count {
            if line[index] == separator[0], line[index..<(index + separator.count)].elementsEqual(separator) {
                return (Array(line[..<index]), Array(line[(index + separator.count)...]))
            }
            index += 1
        }
        return nil
    }
}
