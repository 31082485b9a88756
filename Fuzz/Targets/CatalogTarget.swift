import DabbaCatalog
import Foundation

extension FuzzTarget {
    /// YAML text through `Catalog.load(yaml:)`: a catalog, or errors that say where.
    public static let catalog = FuzzTarget(
        name: "catalog",
        summary: "an AsyncAPI YAML document: Catalog.load(yaml:) gives a catalog or located errors",
        run: CatalogTarget.run,
        generate: CatalogTarget.generate,
        tokens: CatalogTarget.tokens
    )
}

enum CatalogTarget {
    static func run(_ input: [UInt8]) throws {
        let text = String(decoding: input, as: UTF8.self)
        // Lines as YAML counts them: CR, LF, CRLF (counted twice here: an upper bound), NEL, LS and PS break lines.
        let lineCount = text.unicodeScalars.count { "\n\r\u{85}\u{2028}\u{2029}".unicodeScalars.contains($0) } + 1
        do {
            let catalog = try Catalog.load(yaml: text, path: "fuzz.asyncapi.yaml")
            for topic in catalog.allTopics {
                // Services create topics from these numbers (Int32 partitions, Int16 replicas in CreateTopics).
                try check(
                    (1...Int(Int32.max)).contains(topic.partitions) && (1...Int(Int16.max)).contains(topic.replicas),
                    "topic \(topic.name) has \(topic.partitions) partitions and \(topic.replicas) replicas"
                )
                try check(catalog.topic(named: topic.name) != nil || topic.isDerived, "topic \(topic.name) not found")
            }
            for event in catalog.events {
                try check(catalog.event(named: event.type) != nil, "event \(event.type) not found by name")
            }
        } catch let errors as CatalogErrors {
            try check(!errors.errors.isEmpty, "CatalogErrors without an error")
            for error in errors.errors {
                try check(
                    (0...lineCount + 1).contains(error.line) && error.column >= 0,
                    "error located outside the document (line \(error.line) of \(lineCount)): \(error)"
                )
                try check(!error.message.isEmpty, "error without a message: \(error.code)")
            }
        } catch {
            throw FuzzFailure("load threw \(type(of: error)), not CatalogErrors: \(error)")
        }
    }

    static let document = """
        asyncapi: 3.0.0
        info:
          title: Orders
          version: 2.1.0
        channels:
          orders:
            address: shop.orders
            messages:
              orderPlaced:
                $ref: '#/components/messages/OrderPlaced'
            bindings:
              kafka:
                partitions: 12
                replicas: 3
                topicConfiguration:
                  cleanup.policy: [compact, delete]
                  retention.ms: 86400000
            x-dabba-retry:
              delays: [250ms, 1m, 1h]
              partitions: 4
        operations:
          ship:
            action: receive
            channel:
              $ref: '#/channels/orders'
            bindings:
              kafka:
                groupId: {type: string, const: shipping}
            x-dabba-service: shipper
          publish:
            action: send
            channel: {$ref: '#/channels/orders'}
        components:
          messages:
            OrderPlaced:
              name: shop.order.placed
              x-dabba-version: 2
              x-dabba-key: orderId
              payload:
                type: object
                required: [orderId, lines]
                properties:
                  orderId: {type: integer, minimum: 1}
                  placedAt: {type: string, format: date-time}
                  lines:
                    type: array
                    items: {$ref: '#/components/schemas/Line'}
              examples:
                - name: sample
                  payload: {orderId: 7, lines: [{sku: dosa}], placedAt: '2026-11-21T08:43:10Z'}
          schemas:
            Line:
              type: object
              properties:
                sku: {type: string, pattern: '^[a-z]+$'}

        """

    static let tokens = [
        ": ", "- ", "&a ", "*a", "<<: *a", "!!str ", "!!binary ", "!custom ", "? ", "|\n  ", ">-\n  ", "{", "}", "[",
        "]",
        "'", "\"", "\\", "#", "---\n", "...\n", "%YAML 1.2\n", "\t", "~", "0x1F", "0o17", "1e400", ".nan", "-.inf",
        "99999999999999999999", "$ref: '#/components/messages/OrderPlaced'", "$ref: '#/channels/orders'", "x-dabba-",
        "partitions: 0", "replicas: -1", "delays: [1x]", "groupId: ", "address: ", "name: ", "\u{FEFF}", "\u{0}",
    ]

    static func generate(_ random: inout FuzzRandom) -> [UInt8] {
        var lines = document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<random.below(4) {
            let index = random.below(lines.count)
            switch random.below(5) {
            case 0: lines.remove(at: index)
            case 1: lines.insert(lines[index], at: index)
            case 2:
                // Replace a value with a token.
                if let colon = lines[index].firstIndex(of: ":") {
                    lines[index] = String(lines[index][...colon]) + " " + random.pick(tokens)
                }
            case 3: lines[index] = String(repeating: " ", count: random.below(3)) + lines[index]
            default: lines.insert(random.pick(tokens), at: index)
            }
        }
        return Mutation.mutate(Array(lines.joined(separator: "\n").utf8), tokens: tokens, &random)
    }
}
