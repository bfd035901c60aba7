/**
 * `/api/vault/*` (HubVault): documents, key management, KYC, age verification and 18 U.S.C. 2257
 * records. Every route declares its permission (most with a step-up), every read states a purpose
 * (access.ts), every operation is audited.
 * @module
 */
import { createSurfaceApp } from '../edge/surface'
import { registerAgeVerification } from './age/api'
import { registerDocuments } from './documents/api'
import { registerKeys } from './keys/api'
import { registerKyc } from './kyc/api'
import { registerRecords } from './records/api'

export const vaultApi = createSurfaceApp()

registerDocuments(vaultApi)
registerKeys(vaultApi)
registerKyc(vaultApi)
registerAgeVerification(vaultApi)
registerRecords(vaultApi)
