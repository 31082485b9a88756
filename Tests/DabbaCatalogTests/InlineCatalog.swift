/// Builds a small, valid catalog document around one message, for tests that vary a detail.
///
/// `messageExtras` is inserted (already indented by 6 spaces) into the `OrderPlaced` message; `examplePayload`
/// is the body of the single example's payload (indented by 12 spaces).
func orderDocument(
    payloadSchema: String = """
            type: object
            required: [orderId]
            properties:
              orderId: {type: string}
    """,
    messageExtras: String = "",
    examplePayload: String? = nil,
    channelExtras: String = "",
    operations: String = ""
) -> String {
    var text = """
        asyncapi: 3.0.0
        info:
          title: Orders
          version: 1.0.0
        channels:
          orders:
            address: shop.orders
            messages:
              orderPlaced:
                $ref: '#/components/messages/OrderPlaced'
            bindings:
              kafka:
                partitions: 3
                replicas: 1

        """
    text += channelExtras
    text += operations
    text += """
        components:
          messages:
            OrderPlaced:
              name: shop.order.placed
              payload:

        """
    text += payloadSchema + "\n"
    text += messageExtras
    if let examplePayload {
        text += """
                  examples:
                    - name: sample
                      payload:

            """
        text += examplePayload + "\n"
    }
    return text
}

/// The 1-based line of the only line of `text` containing `snippet`.
func line(of snippet: String, inText text: String) throws -> Int {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let matches = lines.indices.filter { lines[$0].contains(snippet) }
    guard matches.count == 1, let index = matches.first else {
        throw TestSupportError("'\(snippet)' appears \(matches.count) times")
    }
    return index + 1
}
