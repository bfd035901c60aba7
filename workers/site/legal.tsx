/**
 * Legal pages of a brand site. Reachable while the age gate is up (they hold no adult content), so a
 * visitor anywhere can read the terms or send a DMCA notice. Contacts come from the brand's record:
 * the DMCA designated agent (17 U.S.C. 512(c)(2)) and the 2257 custodian of records (28 CFR 75.6).
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { brandOf, brandPage } from './brand-page'

export const STATEMENT_2257_TITLE = '18 U.S.C. 2257 Record-Keeping Requirements Compliance Statement'

export function termsPage(c: Context<AppEnv>) {
  const brand = brandOf(c)
  return brandPage(
    c,
    'Terms of Service',
    <article class="legal narrow">
      <h1>Terms of Service</h1>
      <p class="meta">Draft pending review by counsel.</p>
      <h2>Who may use {brand.name}</h2>
      <p>
        You must be at least 18 years old, and old enough to view adult content where you live. Where the law requires it, we ask you to verify your
        age before showing any content.
      </p>
      <h2>Your account</h2>
      <p>One FANZ account works on every FANZ brand. Keep your sign-in details private; you are responsible for activity on your account.</p>
      <h2>Creators and content</h2>
      <p>
        Creators own their content and license it to {brand.name} to show it to the fans they choose. Every person appearing in content must be an
        adult who consented to its creation and publication, with records kept as 18 U.S.C. 2257 requires.
      </p>
      <h2>What is not allowed</h2>
      <ul>
        <li>Content involving anyone under 18, or anyone who did not consent.</li>
        <li>Intimate images shared without consent: report them and we remove them within 48 hours.</li>
        <li>Content that infringes someone else’s copyright (see our <a href="/legal/dmca">DMCA policy</a>).</li>
        <li>Recording, copying or redistributing creators’ content.</li>
      </ul>
      <h2>Ending your account</h2>
      <p>You may close your account at any time. We may suspend accounts that break these terms, including repeat copyright infringers.</p>
    </article>,
  )
}

export function privacyPage(c: Context<AppEnv>) {
  const brand = brandOf(c)
  return brandPage(
    c,
    'Privacy Policy',
    <article class="legal narrow">
      <h1>Privacy Policy</h1>
      <p class="meta">Draft pending review by counsel.</p>
      <h2>What we collect</h2>
      <p>
        Your account details, your subscriptions and payments, and the technical data every website receives (such as your IP address and an
        approximate location, used to apply the law of the place you visit from).
      </p>
      <h2>Age verification</h2>
      <p>
        Where a law requires age verification, the check is done by a verification provider. We keep only the outcome: the method, the result, the
        provider’s reference, the date and the jurisdiction. Where the law forbids keeping identifying information, we do not keep it.
      </p>
      <h2>Your rights</h2>
      <p>
        Depending on where you live you may ask to see, correct, export or delete your data, and opt out of its sale or sharing. We honour Global
        Privacy Control signals. Write to <a href={`mailto:privacy@${brand.primaryDomain}`}>privacy@{brand.primaryDomain}</a>.
      </p>
      <h2>Creators’ records</h2>
      <p>
        Records that 18 U.S.C. 2257 requires for creators are kept encrypted and separate from all other data, and are disclosed only as the law
        requires.
      </p>
    </article>,
  )
}

export function dmcaPage(c: Context<AppEnv>) {
  const brand = brandOf(c)
  const agent = brand.dmcaAgent
  return brandPage(
    c,
    'DMCA and copyright',
    <article class="legal narrow">
      <h1>DMCA and copyright</h1>
      <p>
        {brand.name} respects creators’ rights and responds to notices of claimed copyright infringement under the Digital Millennium Copyright
        Act, 17 U.S.C. 512.
      </p>
      <h2>Designated agent</h2>
      <p>Send notices of claimed infringement to our designated agent:</p>
      <address>
        <strong>{agent.name}</strong>
        <br />
        {agent.address}
        <br />
        Email: <a href={`mailto:${agent.email}`}>{agent.email}</a>
        <br />
        Phone: {agent.phone}
        <br />
        U.S. Copyright Office registration: {agent.registration}
      </address>
      <h2>What a notice must contain</h2>
      <p>Under 17 U.S.C. 512(c)(3)(A), a notice is effective only if it is written and includes:</p>
      <ol>
        <li>A physical or electronic signature of a person authorised to act for the owner of the right claimed to be infringed.</li>
        <li>Identification of the copyrighted work claimed to be infringed (or, for several works, a representative list).</li>
        <li>
          Identification of the material claimed to be infringing, with information reasonably sufficient for us to locate it, such as its URL on{' '}
          {brand.primaryDomain}.
        </li>
        <li>Your contact information: name, address, telephone number and, if available, email address.</li>
        <li>A statement that you have a good-faith belief that the use is not authorised by the copyright owner, its agent, or the law.</li>
        <li>
          A statement that the information in the notice is accurate and, under penalty of perjury, that you are authorised to act on behalf of the
          owner.
        </li>
      </ol>
      <p>
        We remove or disable access to the material promptly after a valid notice and tell the person who posted it. A notice that knowingly
        misrepresents infringement can make its sender liable for damages (17 U.S.C. 512(f)).
      </p>
      <h2>Counter-notices</h2>
      <p>
        If your material was removed by mistake or misidentification, you may send the designated agent a counter-notice under 17 U.S.C. 512(g)(3):
        your signature; identification of the material and where it appeared; a statement under penalty of perjury that you believe in good faith it
        was removed by mistake or misidentification; and your name, address and telephone number with your consent to the jurisdiction of the federal
        district court for your address (or, outside the United States, any judicial district in which {brand.name} may be found) and to accept
        service from the person who sent the notice. Unless that person tells us they have filed a court action, we restore the material 10 to 14
        business days after receiving the counter-notice.
      </p>
      <h2>Repeat infringers</h2>
      <p>We terminate, in appropriate circumstances, the accounts of users who repeatedly infringe copyright.</p>
    </article>,
  )
}

export function statement2257Page(c: Context<AppEnv>) {
  const brand = brandOf(c)
  const custodian = brand.custodian
  return brandPage(
    c,
    STATEMENT_2257_TITLE,
    <article class="legal narrow">
      <h1>{STATEMENT_2257_TITLE}</h1>
      <p>
        All persons who appear in any visual depiction of actual or simulated sexually explicit conduct on {brand.name} were 18 years of age or older
        at the time the depiction was created.
      </p>
      <p>
        The records required by 18 U.S.C. 2257 and 2257A and 28 C.F.R. Part 75 for all such depictions published on {brand.primaryDomain} are kept
        by the following custodian of records:
      </p>
      <address>
        <strong>{custodian.name}</strong>
        <br />
        {custodian.title}
        <br />
        {custodian.address}
        <br />
        Email: <a href={`mailto:${custodian.email}`}>{custodian.email}</a>
      </address>
      <p>
        Each depiction is identified in the records by its title or identifier and its date of production. Creators who publish on {brand.name} are
        the primary producers of their content; {brand.name} keeps records as a secondary producer.
      </p>
    </article>,
  )
}
