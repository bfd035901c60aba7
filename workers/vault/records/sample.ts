/**
 * Request bodies of a complete 2257 record (one adult performer, a US driver's licence examined and
 * copied) and of a depiction's link with consent and model release: what publication needs. Shared
 * by the MediaHub tests in workerd and the browser suite in Node (plain data, `btoa` only).
 * @module
 */

/** `POST /api/vault/records/performers` body for Alex Rivers, custodian `brandId`; `idNumber` keeps records apart. */
export function samplePerformerRecord(brandId: string, idNumber: string) {
  return {
    custodian_brand_id: brandId,
    content: {
      legal_name: { first: 'Alex', middle: null, last: 'Rivers' },
      date_of_birth: '1994-03-02',
      aliases: ['Alex Rivers'],
      locations: { performer_country: 'US', producer_country: 'US' },
      producer_role: 'primary',
      id_document: {
        type: 'drivers_license',
        issuer: 'California DMV',
        issuer_country: 'US',
        number: `D${idNumber}`,
        expires_on: '2031-05-01',
        has_recent_photo: true,
        examined_by: 'usr_examiner01',
        examined_at: '2026-01-10T15:00:00Z',
        copies: [{ side: 'front', content_type: 'image/png', content_base64: btoa('\x89PNG\r\n\x1a\nID-SCAN front of a test licence') }],
      },
    },
  }
}

/** `POST /api/vault/records/performers/{id}/media` body: the depiction on `brandId` with its consent and release. */
export function sampleDepiction(mediaId: string, brandId: string, title: string) {
  return {
    media_id: mediaId,
    brand_id: brandId,
    title,
    production_date: '2026-01-15',
    urls: [`https://boyfanz.com/alex/media/${mediaId}`],
    consent: { content_type: 'application/pdf', content_base64: btoa(`%PDF-1.7 consent ${mediaId}`) },
    model_release: { content_type: 'application/pdf', content_base64: btoa(`%PDF-1.7 release ${mediaId}`) },
  }
}
