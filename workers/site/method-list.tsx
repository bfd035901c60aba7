import type { AvMethod } from '../compliance/jurisdictions'
import { METHOD_TEXT } from './av-text'

/** The age-verification methods a jurisdiction accepts, in plain words (gate and SSO pages). */
export const MethodList = ({ methods }: { methods: AvMethod[] }) => (
  <ul class="methods">
    {methods.map((method) => (
      <li>
        <strong>{METHOD_TEXT[method].name}</strong>: {METHOD_TEXT[method].detail}.
      </li>
    ))}
  </ul>
)
