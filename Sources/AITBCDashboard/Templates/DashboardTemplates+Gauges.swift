/// The quota and credit gauges, as partials the tenant's pages and the key page include. `<meter>`
/// draws them without scripts; the numbers are written out beside it for every reader.
extension DashboardTemplates {
    static let gaugeTemplates: [(String, String)] = [("quota-gauges", quotaGauges), ("credit-gauge", creditGauge)]

    static let quotaGauges = """
        <section class="card" aria-labelledby="quota-heading" id="quota">
        <h2 id="quota-heading">Request quota</h2>
        {{#quotas}}
        <div class="field" id="quota-{{period}}" data-used="{{used}}" data-limit="{{limit}}">
          <label for="quota-gauge-{{period}}">{{label}}: <strong class="used">{{used}}</strong> of <span class="limit">{{limit}}</span> requests used</label>
          <meter id="quota-gauge-{{period}}" class="gauge" min="0" max="{{limit}}" high="{{high}}" optimum="0" value="{{used}}">{{used}} of {{limit}}</meter>
          <p class="hint">{{remaining}} left · resets <time datetime="{{resetAt}}">{{resetText}}</time></p>
        </div>
        {{/quotas}}
        </section>
        """

    static let creditGauge = """
        <section class="card" aria-labelledby="credits-heading" id="credits" data-remaining="{{remaining}}">
        <h2 id="credits-heading">Credits</h2>
        <p><strong id="credits-remaining">{{remaining}}</strong> credits remaining.</p>
        {{#refillAmount}}
        <meter class="gauge" min="0" max="{{gaugeMax}}" low="{{low}}" optimum="{{gaugeMax}}" value="{{remaining}}" aria-label="Credits remaining">{{remaining}} of {{gaugeMax}}</meter>
        <p id="credits-refill">Refills to <strong>{{refillAmount}}</strong> {{refillInterval}}{{#nextRefillAt}}, next at <time datetime="{{.}}">{{nextRefillText}}</time>{{/nextRefillAt}}.</p>
        {{/refillAmount}}
        {{^refillAmount}}<p id="credits-refill">No refill: a master key can top it up.</p>{{/refillAmount}}
        </section>
        """
}
