import Dispatch
import Foundation

/// One line of input: its 1-based number and its bytes without the trailing newline.
struct InputLine: Sendable {
    var number: Int
    var bytes: [UInt8]
}

/// The lines of a file descriptor (standard input by default), read in chunks on a Dispatch queue so a blocking
/// `read(2)` never occupies Swift's cooperative thread pool. Reading is pulled by the iterator, so a slow consumer
/// of lines slows reading instead of buffering the whole input.
///
/// Lines end at `\n`; the bytes are kept exactly (a `\r` before the newline stays part of the line). A last line
/// without a newline still counts.
struct InputLines: AsyncSequence, Sendable {
    typealias Element = InputLine
    let descriptor: Int32

    init(descriptor: Int32 = STDIN_FILENO) {
        self.descriptor = descriptor
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let descriptor: Int32
        var buffer: [UInt8] = []
        var start = 0
        var reachedEnd = false
        var lineNumber = 0

        mutating func next() async throws -> InputLine? {
            while true {
                if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    let bytes = Array(buffer[start..<newline])
                    start = newline + 1
                    lineNumber += 1
                    return InputLine(number: lineNumber, bytes: bytes)
                }
                if reachedEnd {
                    guard start < buffer.count else { return nil }
                    let bytes = Array(buffer[start...])
                    start = buffer.count
                    lineNumber += 1
                    return InputLine(number: lineNumber, bytes: bytes)
                }
                if start > 0 {
                    buffer.removeFirst(start)
                    start = 0
                }
                let chunk = try await Self.readChunk(descriptor)
                if chunk.isEmpty { reachedEnd = true } else { buffer += chunk }
            }
        }

        private static let queue = DispatchQueue(label: "dabba.input")

        private static func readChunk(_ descriptor: Int32) async throws -> [UInt8] {
            try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    var chunk = [UInt8](repeating: 0, count: 65_536)
                    while true {
                        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                        if count >= 0 {
                            continuation.resume(returning: Array(chunk.prefix(count)))
                            return
                        }
                        if errno == EINTR { continue }
                        let reason = String(cString: strerror(errno))
                        continuation.resume(throwing: CLIError("could not read standard input: \(reason)"))
                        return
                    }
                }
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(descriptor: descriptor) }
}
