/// The fields of the dashboard's new-endpoint form; `events[]` is one checkbox per event type.
struct WebhookForm: Decodable {
    var url: String?
    var description: String?
    var events: [String]?
    var csrf_token: String?

    init() {}
}
