import { forbiddenAddressReason } from '../src';

const strict = { allowLoopback: false };
const loopbackOk = { allowLoopback: true };

describe('forbiddenAddressReason', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['::1', /loopback/],
    ['[::1]', /loopback/],
    ['10.0.0.1', /private.*10\.0\.0\.0\/8/],
    ['172.16.0.1', /private.*172\.16\.0\.0\/12/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private.*192\.168/],
    ['fc00::1', /unique local/],
    ['fd12:3456::1', /unique local/],
    ['169.254.1.1', /link-local/],
    ['fe80::1', /link-local/],
    ['febf::1', /link-local/],
    ['100.64.0.1', /CGNAT/],
    ['100.127.255.254', /CGNAT/],
    ['169.254.169.254', /metadata/],
    ['169.254.170.2', /metadata/],
    ['fd00:ec2::254', /metadata/],
    ['0.0.0.0', /this network/],
    ['0.1.2.3', /this network/],
    ['::', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['ff02::1', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['240.0.0.1', /reserved/],
    ['192.0.0.170', /IETF/],
    ['192.0.2.1', /documentation/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['2001:db8::1', /documentation/],
    ['198.18.0.1', /benchmarking/],
    ['100::1', /discard/],
    ['fec0::1', /site-local/],
    ['::ffff:127.0.0.1', /loopback.*IPv4-mapped/],
    ['::ffff:7f00:1', /loopback.*IPv4-mapped/],
    ['::ffff:10.1.2.3', /private.*IPv4-mapped/],
    ['::ffff:169.254.169.254', /metadata.*IPv4-mapped/],
    ['::ffff:a9fe:a9fe', /metadata.*IPv4-mapped/],
    ['::ffff:0:10.0.0.1', /private.*IPv4-translated/],
    ['::10.0.0.1', /private.*IPv4-compatible/],
    ['::8.8.8.8', /IPv4-compatible/],
    ['64:ff9b::10.0.0.1', /private.*NAT64/],
    ['64:ff9b::a9fe:a9fe', /metadata.*NAT64/],
    ['64:ff9b::127.0.0.1', /loopback.*NAT64/],
    ['64:ff9b:1::1.2.3.4', /NAT64 local-use/],
    ['2002:0a00:0001::1', /private.*6to4/],
    ['2002:a9fe:a9fe::', /metadata.*6to4/],
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', /private.*Teredo.*client/], // client 10.0.0.1
    ['2001:0:a00:1::1', /private.*Teredo.*server/],
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', /^Teredo tunnel/], // public client 8.8.8.8: still refused
    ['2001:2::1', /IETF/],
    ['4000::1', /outside global unicast/],
    ['fe80::1%eth0', /not a canonical/],
    ['0127.0.0.1', /not a canonical/],
    ['0x7f.0.0.1', /not a canonical/],
    ['2130706433', /not a canonical/],
    ['example.com', /not a canonical/],
    ['1.2.3', /not a canonical/],
    ['1::2::3', /not a canonical/],
    // Hostile spellings: a non-canonical dotted tail, zone ids on loopback forms, octal / short forms.
    ['::ffff:0127.0.0.1', /not a canonical/],
    ['::ffff:127.0.0.1%lo', /not a canonical/],
    ['[::1%25lo]', /not a canonical/],
    ['::ffff:127.1', /not a canonical/],
    ['0177.0.0.1', /not a canonical/],
    ['127.000.000.001', /not a canonical/],
    ['0x7f000001', /not a canonical/],
    ['256.1.1.1', /not a canonical/],
    ['00001::1', /not a canonical/],
    ['1::2:3:4:5:6:7:8', /not a canonical/],
    ['fe80::1/64', /not a canonical/],
    [' ::1', /not a canonical/],
    ['', /not a canonical/],
    ['[127.0.0.1]', /loopback/],
    ['0:0:0:0:0:ffff:7f00:0001', /loopback.*IPv4-mapped/],
    ['::FFFF:A9FE:A9FE', /metadata.*IPv4-mapped/],
  ])('refuses %s', (ip, reason) => {
    expect(forbiddenAddressReason(ip, strict)).toMatch(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '140.82.112.3',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:0808:0808::1',
  ])('allows public %s', (ip) => {
    expect(forbiddenAddressReason(ip, strict)).toBeNull();
  });

  it('allowLoopback admits loopback only, never private, metadata or translated loopback', () => {
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      expect(forbiddenAddressReason(ip, loopbackOk)).toBeNull();
    for (const ip of [
      '10.0.0.1',
      '192.168.0.1',
      '169.254.169.254',
      'fd00:ec2::254',
      '0.0.0.0',
      '::',
      '64:ff9b::127.0.0.1',
      '2002:7f00:1::1',
    ]) {
      expect(forbiddenAddressReason(ip, loopbackOk)).not.toBeNull();
    }
  });
});
