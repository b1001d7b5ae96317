/// The webhooks pages' templates: the endpoint list with its form, one endpoint with its
/// deliveries, and the page that shows a new endpoint's signing secret once.
extension DashboardTemplates {
    static let webhookTemplates: [(String, String)] = [
        ("webhooks", webhooks), ("webhook", webhook), ("webhook-secret", webhookSecret),
    ]

    static let webhooks = """
        {{<layout}}{{$content}}
        <h1>Webhooks</h1>
        <p class="lead">Endpoints of tenant <code>{{tenantID}}</code> receive signed events (<code>AITBC-Signature</code>) as they happen.</p>
        <div class="table-wrap">
        <table id="webhooks">
          <caption class="visually-hidden">Webhook endpoints of this tenant, oldest first</caption>
          <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Description</th><th scope="col">Created</th><th scope="col">State</th></tr></thead>
          <tbody>
          {{#endpoints}}
          <tr id="row-{{id}}" data-webhook-id="{{id}}" data-state="{{state}}">
            <td data-label="URL"><a href="/dashboard/webhooks/{{id}}"><code>{{url}}</code></a></td>
            <td data-label="Events">{{#events}}<code>{{.}}</code> {{/events}}</td>
            <td data-label="Description">{{description}}</td>
            <td data-label="Created">{{createdText}}</td>
            <td data-label="State"><span class="status {{state}}">{{state}}</span></td>
          </tr>
          {{/endpoints}}
          {{^endpoints}}<tr><td colspan="5">No endpoints yet.</td></tr>{{/endpoints}}
          </tbody>
        </table>
        </div>

        <section class="card" aria-labelledby="create-heading">
        <h2 id="create-heading">Add an endpoint</h2>
        {{#atLimit}}<p>This tenant has {{maximumEndpoints}} endpoints, the most it may have. Delete one to add another.</p>{{/atLimit}}
        {{^atLimit}}
        <form method="post" action="/dashboard/webhooks" novalidate>
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          {{#urlField}}{{>field}}{{/urlField}}
          <fieldset class="field{{#eventsError}} invalid{{/eventsError}}" id="events"{{#eventsError}} aria-describedby="events-error"{{/eventsError}}>
            <legend>Events</legend>
            {{#eventChoices}}<label class="check"><input type="checkbox" name="events[]" value="{{value}}"{{#checked}} checked{{/checked}}> <code>{{value}}</code></label>
            {{/eventChoices}}
            {{#eventsError}}<p class="error" id="events-error">{{.}}</p>{{/eventsError}}
          </fieldset>
          <div class="field{{#descriptionError}} invalid{{/descriptionError}}">
            <label for="description">Description (optional)</label>
            <input id="description" name="description" type="text" value="{{descriptionValue}}" maxlength="500" autocomplete="off"{{#descriptionError}} aria-invalid="true" aria-describedby="description-error"{{/descriptionError}}>
            {{#descriptionError}}<p class="error" id="description-error">{{.}}</p>{{/descriptionError}}
          </div>
          <button type="submit" id="create-webhook">Add endpoint</button>
        </form>
        {{/atLimit}}
        </section>
        {{/content}}{{/layout}}
        """

    static let webhook = """
        {{<layout}}{{$content}}
        <p><a href="/dashboard/webhooks">← Webhooks</a></p>
        <h1>Endpoint <code>{{id}}</code></h1>
        <dl class="facts" id="webhook-facts" data-webhook-id="{{id}}" data-state="{{state}}">
          <div><dt>URL</dt><dd><code id="webhook-url">{{url}}</code></dd></div>
          <div><dt>Events</dt><dd>{{#events}}<code>{{.}}</code> {{/events}}</dd></div>
          <div><dt>Description</dt><dd id="webhook-description">{{description}}{{^description}}None{{/description}}</dd></div>
          <div><dt>State</dt><dd><span class="status {{state}}">{{state}}</span>{{#disabledText}} since {{.}}{{/disabledText}}</dd></div>
          {{#failingText}}<div><dt>Failing since</dt><dd>{{.}}</dd></div>{{/failingText}}
          <div><dt>Created</dt><dd>{{createdText}}</dd></div>
        </dl>
        <section class="card" aria-labelledby="deliveries-heading">
        <h2 id="deliveries-heading">Recent deliveries</h2>
        <form method="post" action="/dashboard/webhooks/{{id}}/test">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <button type="submit" id="send-test">Send a test event</button>
        </form>
        <div class="table-wrap">
        <table id="deliveries">
          <caption class="visually-hidden">Deliveries to this endpoint, newest first</caption>
          <thead><tr><th scope="col">Event</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last HTTP status</th><th scope="col">Latency</th><th scope="col">Next try</th><th scope="col"></th></tr></thead>
          <tbody>
          {{#deliveries}}
          <tr id="delivery-{{id}}" data-delivery-id="{{id}}" data-status="{{status}}">
            <td data-label="Event"><code>{{eventType}}</code></td>
            <td data-label="Created">{{createdText}}</td>
            <td data-label="Status"><span class="status {{status}}">{{status}}</span>{{#error}} <span class="hint">{{.}}</span>{{/error}}</td>
            <td data-label="Attempts" class="attempts">{{attempts}}</td>
            <td data-label="Last HTTP status" class="http-status">{{httpStatus}}</td>
            <td data-label="Latency">{{latency}}</td>
            <td data-label="Next try">{{nextText}}</td>
            <td><form method="post" action="/dashboard/webhooks/{{webhookID}}/deliveries/{{id}}/redeliver">
              <input type="hidden" name="csrf_token" value="{{csrf}}">
              <button type="submit" class="link">Redeliver</button>
            </form></td>
          </tr>
          {{/deliveries}}
          {{^deliveries}}<tr><td colspan="8">No deliveries yet.</td></tr>{{/deliveries}}
          </tbody>
        </table>
        </div>
        </section>
        <section class="card danger" aria-labelledby="delete-heading">
        <h2 id="delete-heading">Delete</h2>
        <p>Deleting the endpoint stops its deliveries at once and removes their log. This cannot be undone.</p>
        <form method="post" action="/dashboard/webhooks/{{id}}/delete">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <button type="submit" class="danger" id="delete-webhook">Delete endpoint</button>
        </form>
        </section>
        {{/content}}{{/layout}}
        """

    static let webhookSecret = """
        {{<layout}}{{$content}}
        <section class="card">
        <h1>Endpoint created</h1>
        <p class="warning" role="alert"><strong>Copy this signing secret now.</strong> It is shown only once. Use it to check each delivery's <code>AITBC-Signature</code>.</p>
        <div class="secret-box">
          <label for="secret">Signing secret of <code>{{webhookID}}</code> (<code>{{url}}</code>)</label>
          <input id="secret" type="text" readonly value="{{secret}}" spellcheck="false" autocomplete="off">
          <button type="button" class="copy" data-copy="secret" hidden>Copy</button>
          <span class="copied" role="status" aria-live="polite"></span>
        </div>
        <p><a href="/dashboard/webhooks/{{webhookID}}" id="continue">Continue to the endpoint</a></p>
        </section>
        {{/content}}{{/layout}}
        """
}
