import { describe, expect, it } from 'vitest';
import { forbiddenAddress, parseIPv6 } from './address-check.js';

describe('forbiddenAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:a00:1::', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['100::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['2001:10::1', 'reserved'],
    ['not-an-ip', 'invalid'],
    ['1.2.3', 'invalid'],
    ['', 'invalid'],
  ])('%s is refused as %s', (ip, cls) => expect(forbiddenAddress(ip)).toBe(cls));

  it.each(['8.8.8.8', '1.1.1.1', '203.0.113.7', '198.51.100.1', '192.0.2.1', '172.32.0.1', '100.128.0.1', '169.253.0.1', '2606:4700::1111', '2001:db8::1', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    '%s is allowed',
    (ip) => expect(forbiddenAddress(ip)).toBeUndefined(),
  );
});

describe('parseIPv6', () => {
  it('expands :: and dotted tails', () => {
    expect(Buffer.from(parseIPv6('::ffff:1.2.3.4')!).toString('hex')).toBe('00000000000000000000ffff01020304');
    expect(Buffer.from(parseIPv6('1::')!).toString('hex')).toBe('00010000000000000000000000000000');
    expect(Buffer.from(parseIPv6('1:2:3:4:5:6:7:8')!).toString('hex')).toBe('00010002000300040005000600070008');
    expect(Buffer.from(parseIPv6('1:2:3:4:5:6:1.2.3.4')!).toString('hex')).toBe('00010002000300040005000601020304');
    expect(parseIPv6('1.2.3.4')).toBeUndefined();
  });
});
