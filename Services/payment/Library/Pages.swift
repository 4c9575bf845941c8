import Alipay
import Contracts
import Foundation
import Mustache

/// The payment service's HTML pages, as Mustache templates (HTML-escaped by default).
package struct PaymentPages: Sendable {
    let library: MustacheLibrary

    package init() throws {
        var library = MustacheLibrary()
        try library.register(Self.layout, named: "layout")
        try library.register(Self.pay, named: "pay")
        try library.register(Self.alipayForm, named: "alipay")
        try library.register(Self.paid, named: "paid")
        try library.register(Self.message, named: "message")
        self.library = library
    }

    package func render(_ name: String, _ object: Any) -> String {
        library.render(object, withTemplate: name) ?? "template \(name) missing"
    }

    /// The fields pages show for an order.
    package static func orderContext(_ order: OrderEntity) -> [String: Any] {
        [
            "orderSn": order.orderSn, "payAmount": order.payAmount.yuan, "totalAmount": order.totalAmount.yuan,
            "items": order.items.map {
                ["skuName": $0.skuName, "skuPrice": $0.skuPrice.yuan, "skuQuantity": $0.skuQuantity, "skuId": $0.skuId] as [String: Any]
            },
        ]
    }

    static let layout = """
        <!DOCTYPE html>
        <html lang="zh-CN"><head><meta charset="utf-8"><title>{{title}} - 谷粒商城</title>
        <style>body{font-family:sans-serif;max-width:720px;margin:2em auto}table{border-collapse:collapse;width:100%}
        td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left}.amount{color:#e4393c;font-size:1.4em}
        .button{background:#e4393c;color:#fff;padding:.6em 1.4em;border:0;font-size:1.1em;text-decoration:none}</style>
        </head><body>{{$body}}{{/body}}</body></html>
        """

    static let pay = """
        {{<layout}}{{$body}}
        <h1>订单提交成功，请尽快付款</h1>
        <p>订单号：<span id="orderSn">{{orderSn}}</span></p>
        <table><tr><th>商品</th><th>单价</th><th>数量</th></tr>
        {{#items}}<tr><td>{{skuName}}</td><td>¥{{skuPrice}}</td><td>{{skuQuantity}}</td></tr>{{/items}}
        </table>
        <p>应付金额：<span class="amount" id="payAmount">¥{{payAmount}}</span></p>
        <h2>选择支付方式</h2>
        <p><a class="button" id="alipay" href="/alipay.html?orderToken={{orderSn}}">支付宝</a></p>
        {{/body}}{{/layout}}
        """

    static let alipayForm = """
        {{<layout}}{{$body}}
        <p>正在跳转到支付宝……</p>
        <form id="alipaysubmit" name="alipaysubmit" action="{{gateway}}?charset=utf-8" method="POST">
        {{#fields}}<input type="hidden" name="{{name}}" value="{{value}}">
        {{/fields}}<input type="submit" value="立即支付" style="display:none">
        </form>
        <script>document.forms['alipaysubmit'].submit();</script>
        {{/body}}{{/layout}}
        """

    static let paid = """
        {{<layout}}{{$body}}
        <h1 id="result">支付成功</h1>
        <p>订单号：{{orderSn}}</p><p>支付金额：<span class="amount">¥{{payAmount}}</span></p>
        <p>支付宝交易号：{{tradeNo}}</p>
        {{/body}}{{/layout}}
        """

    static let message = """
        {{<layout}}{{$body}}
        <h1 id="result">{{title}}</h1><p>{{text}}</p>
        {{#refresh}}<script>setTimeout(function(){location.reload()}, 2000)</script>{{/refresh}}
        {{/body}}{{/layout}}
        """
}
