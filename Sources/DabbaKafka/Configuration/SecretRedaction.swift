/// Which librdkafka properties hold secrets, and how their values are kept out of errors, logs and descriptions.
///
/// The one place that decides what is secret: ``ClientConfiguration``'s descriptions, ``ClientProperties``' summary,
/// the errors raised when librdkafka rejects a property, and librdkafka's log and error lines all go through it.
///
/// A property is secret when its name contains `password`, `secret`, `token` (except the token endpoint's URL),
/// `credential`, `jaas` or `oauthbearer.config`, or ends with `.pem` (PEM-encoded keys and certificates).
public enum SecretRedaction {
    /// What a secret value is replaced with.
    public static let placeholder = "[redacted]"

    /// Secret values shorter than this are not scrubbed from free text (they would garble unrelated words); they
    /// are still never printed as property values.
    static let shortestScrubbedValue = 4

    /// Whether the property holds a secret.
    /// - Parameter key: A librdkafka property name, in any case.
    /// - Returns: True for passwords, client secrets, tokens, private keys and other credentials.
    public static func isSecret(key: String) -> Bool {
        let key = key.lowercased()
        if key.hasSuffix(".pem") || key.contains("password") || key.contains("secret") || key.contains("credential")
            || key.contains("jaas") || key.contains("oauthbearer.config")
        {
            return true
        }
        return key.contains("token") && !key.hasSuffix(".url")
    }

    /// The value as it may be shown: the placeholder for a secret property, the value itself otherwise.
    /// - Parameters:
    ///   - value: The property's value.
    ///   - key: The property's name.
    /// - Returns: The printable value.
    public static func displayValue(_ value: String, key: String) -> String {
        isSecret(key: key) ? placeholder : value
    }

    /// The values of the secret properties among `properties`, for ``scrub(_:secrets:)``.
    /// - Parameter properties: librdkafka properties as key-value pairs.
    /// - Returns: The non-empty secret values, longest first.
    public static func secretValues(in properties: some Sequence<(String, String)>) -> [String] {
        let values = properties.filter { isSecret(key: $0.0) && !$0.1.isEmpty }.map(\.1)
        return Array(Set(values)).sorted { $0.count > $1.count }
    }

    /// Replaces every occurrence of a secret value in free text (an error or log line that might echo one).
    /// - Parameters:
    ///   - text: The text to clean.
    ///   - secrets: Secret values, as ``secretValues(in:)`` returns them.
    /// - Returns: The text with each secret of at least four characters replaced by the placeholder.
    public static func scrub(_ text: String, secrets: [String]) -> String {
        var text = text
        for secret in secrets where secret.count >= shortestScrubbedValue && text.contains(secret) {
            text = text.replacing(secret, with: placeholder)
        }
        return text
    }
}
