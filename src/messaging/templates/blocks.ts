// Built-in reusable blocks (MJML partials) every workspace has; a workspace block with the same name replaces one.
// They only read what they are given, with defaults for optional fields, so they work under strict variables.
//
//   {% render 'product_card', product: item %}                   one product: image, title, price, button
//   {% render 'product_grid', products: items, limit: 4, columns: 2 %}   up to `limit` products, `columns` per row
//
// A product is a catalog item: { title, url?, image_url?, price? (minor units), currency? }. Optional parameters:
// button_text ("Shop now"), currency (used when the item has none; default USD).

const PRODUCT_CARD = `{%- liquid
  assign _currency = 'USD'
  if currency
    assign _currency = currency
  endif
  if product.currency
    assign _currency = product.currency
  endif
  assign _button = 'Shop now'
  if button_text
    assign _button = button_text
  endif
-%}
<mj-section padding="8px 0">
  <mj-column>
    {%- if product.image_url %}
    <mj-image src="{{ product.image_url }}" alt="{{ product.title }}"{% if product.url %} href="{{ product.url }}"{% endif %} width="280px" padding="8px 16px" />
    {%- endif %}
    <mj-text align="center" font-size="18px" font-weight="bold" padding="4px 16px">{{ product.title }}</mj-text>
    {%- if product.price %}
    <mj-text align="center" padding="2px 16px">{{ product.price | money: _currency }}</mj-text>
    {%- endif %}
    {%- if product.url %}
    <mj-button href="{{ product.url }}" padding="8px 16px 16px">{{ _button }}</mj-button>
    {%- endif %}
  </mj-column>
</mj-section>
`;

// Rows of `columns` products: a section opens before the first product of a row and closes after its last.
const PRODUCT_GRID = `{%- liquid
  assign _limit = 4
  if limit
    assign _limit = limit
  endif
  assign _cols = 2
  if columns
    assign _cols = columns
  endif
  assign _last_col = _cols | minus: 1
  assign _width = 100 | divided_by: _cols
  assign _currency = 'USD'
  if currency
    assign _currency = currency
  endif
  assign _button = 'Shop now'
  if button_text
    assign _button = button_text
  endif
-%}
{%- for product in products limit: _limit %}
  {%- assign _col = forloop.index0 | modulo: _cols %}
  {%- if _col == 0 %}
<mj-section padding="8px 0">
  {%- endif %}
  {%- assign _cur = _currency %}
  {%- if product.currency %}{% assign _cur = product.currency %}{% endif %}
  <mj-column width="{{ _width }}%">
    {%- if product.image_url %}
    <mj-image src="{{ product.image_url }}" alt="{{ product.title }}"{% if product.url %} href="{{ product.url }}"{% endif %} padding="8px" />
    {%- endif %}
    <mj-text align="center" font-weight="bold" padding="4px 8px">{{ product.title }}</mj-text>
    {%- if product.price %}
    <mj-text align="center" padding="2px 8px">{{ product.price | money: _cur }}</mj-text>
    {%- endif %}
    {%- if product.url %}
    <mj-button href="{{ product.url }}" padding="8px">{{ _button }}</mj-button>
    {%- endif %}
  </mj-column>
  {%- if _col == _last_col or forloop.last %}
</mj-section>
  {%- endif %}
{%- endfor %}
`;

export const BUILTIN_BLOCKS: Readonly<Record<string, string>> = Object.freeze({
  product_card: PRODUCT_CARD,
  product_grid: PRODUCT_GRID,
});
