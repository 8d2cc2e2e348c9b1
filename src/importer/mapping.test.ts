import { describe, expect, it } from 'vitest';
import { MappingError, cellValue, parseMapArg, resolveMapping } from './mapping.ts';

const UCI = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'];

describe('column mapping', () => {
  it('fits the UCI Online Retail file by default', () => {
    const m = resolveMapping('orders', UCI);
    expect(Object.fromEntries([...m.fields].map(([f, i]) => [f, UCI[i]]))).toEqual({
      order_id: 'InvoiceNo',
      sku: 'StockCode',
      name: 'Description',
      quantity: 'Quantity',
      price: 'UnitPrice',
      timestamp: 'InvoiceDate',
      customer_id: 'CustomerID',
      country: 'Country',
    });
    expect(m.unused).toEqual([]);
    const c = resolveMapping('customers', UCI);
    expect(c.fields.get('customer_id')).toBe(6);
    expect(c.fields.get('country')).toBe(7);
  });

  it('matches column names ignoring case, spaces and separators', () => {
    const m = resolveMapping('customers', ['Customer ID', 'E-Mail', 'first name']);
    expect([...m.fields.keys()].sort()).toEqual(['customer_id', 'email', 'first_name']);
  });

  it('applies --map overrides, unmaps with field=, and carries extra columns', () => {
    const header = ['Email', 'Client', 'Plan', 'Country'];
    const m = resolveMapping('customers', header, parseMapArg('customer_id=Client,country=,traits.plan=Plan'));
    expect(m.fields.get('customer_id')).toBe(1);
    expect(m.fields.get('email')).toBe(0);
    expect(m.fields.has('country')).toBe(false);
    expect(m.extras).toEqual([{ target: 'traits', key: 'plan', index: 2 }]);
    expect(m.unused).toEqual(['Country']);
    // Column=field is understood too.
    expect(resolveMapping('customers', header, parseMapArg('Client=customer_id')).fields.get('customer_id')).toBe(1);
  });

  it('explains a bad --map', () => {
    expect(() => resolveMapping('orders', UCI, parseMapArg('customer_id=CustomerId2'))).toThrow(MappingError);
    expect(() => resolveMapping('orders', UCI, parseMapArg('customer_id=CustomerId2'))).toThrow(/no column "CustomerId2".*"InvoiceNo"/);
    expect(() => resolveMapping('orders', UCI, parseMapArg('colour=Country'))).toThrow(/"colour" is not a field of a orders import/);
    expect(() => resolveMapping('orders', ['Invoice', 'Qty', 'When'])).toThrow(/no column for "price"/);
    expect(() => parseMapArg('customer_id')).toThrow(/expected field=Column/);
  });

  it('parses quoted --map values and repeated flags', () => {
    expect(parseMapArg(['a="X, Y",b=Z', 'c=W'])).toEqual([
      ['a', 'X, Y'],
      ['b', 'Z'],
      ['c', 'W'],
    ]);
  });

  it('types cell values for properties and traits', () => {
    expect(cellValue('12')).toBe(12);
    expect(cellValue('-3.5')).toBe(-3.5);
    expect(cellValue('02139')).toBe('02139');
    expect(cellValue('true')).toBe(true);
    expect(cellValue('')).toBeUndefined();
    expect(cellValue('12345678901234567890')).toBe('12345678901234567890');
  });
});
