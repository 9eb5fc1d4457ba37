import { DhkemX25519HkdfSha256 } from '@hpke/core';
import { busCipherSuite, referenceCipherSuite, x25519KeyPair, x25519PublicKey } from '../src';

const hex = (s: string) => Buffer.from(s, 'hex');

// RFC 9180 Appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode.
const A1 = {
  skRm: hex('4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8'),
  pkRm: hex('3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d'),
  info: hex('4f6465206f6e2061204772656369616e2055726e'),
  enc: hex('37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431'),
  aad0: hex('436f756e742d30'),
  pt: hex('4265617574792069732074727574682c20747275746820626561757479'),
  ct0: hex('f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a'),
  // exporter_context "" (empty), L = 32
  export0: '3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee',
};

describe('the bus HPKE suite (node:crypto primitives under @hpke/core)', () => {
  const suite = busCipherSuite();
  const reference = referenceCipherSuite(new DhkemX25519HkdfSha256());
  const pair = x25519KeyPair(A1.skRm);

  it('derives the RFC 9180 A.1.1 recipient public key from its private key', () => {
    expect(pair.publicKey.raw.toString('hex')).toBe(A1.pkRm.toString('hex'));
  });

  it('opens the RFC 9180 A.1.1 ciphertext and exports its secret', async () => {
    const recipient = await suite.createRecipientContext({
      recipientKey: pair as never,
      enc: A1.enc,
      info: A1.info,
    });
    expect(Buffer.from(await recipient.open(A1.ct0, A1.aad0))).toEqual(A1.pt);
    expect(Buffer.from(await recipient.export(new Uint8Array(0), 32)).toString('hex')).toBe(A1.export0);
  });

  it('interoperates with the library’s own WebCrypto suite in both directions', async () => {
    const refPublic = await reference.kem.deserializePublicKey(A1.pkRm);
    const refPrivate = await reference.kem.deserializePrivateKey(A1.skRm);
    const ours = await suite.createSenderContext({
      recipientPublicKey: x25519PublicKey(A1.pkRm) as never,
      info: A1.info,
    });
    const ct = await ours.seal(A1.pt, A1.aad0);
    const theirs = await reference.createRecipientContext({
      recipientKey: refPrivate,
      enc: ours.enc,
      info: A1.info,
    });
    expect(Buffer.from(await theirs.open(ct, A1.aad0))).toEqual(A1.pt);
    expect(Buffer.from(await theirs.export(Buffer.from('x'), 32))).toEqual(
      Buffer.from(await ours.export(Buffer.from('x'), 32)),
    );

    const sender = await reference.createSenderContext({ recipientPublicKey: refPublic, info: A1.info });
    const back = await sender.seal(A1.pt);
    const opened = await suite.createRecipientContext({
      recipientKey: pair as never,
      enc: sender.enc,
      info: A1.info,
    });
    expect(Buffer.from(await opened.open(back))).toEqual(A1.pt);
  });

  it('refuses a ciphertext under another info or an altered ciphertext', async () => {
    const other = await suite.createRecipientContext({
      recipientKey: pair as never,
      enc: A1.enc,
      info: Buffer.from('another info'),
    });
    await expect(other.open(A1.ct0, A1.aad0)).rejects.toThrow();
    const altered = Buffer.from(A1.ct0);
    altered[3] ^= 1;
    const same = await suite.createRecipientContext({
      recipientKey: pair as never,
      enc: A1.enc,
      info: A1.info,
    });
    await expect(same.open(altered, A1.aad0)).rejects.toThrow();
  });
});
