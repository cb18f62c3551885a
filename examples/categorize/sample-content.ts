/**
 * The text of the generated sample set: one or more documents per category, written the way such
 * documents read (captions, letterheads, totals, signature blocks), ASCII only so the PDFs' standard
 * fonts can encode every character. The wording and true labels are fixed, so accuracy is comparable
 * from run to run.
 */

export interface SampleText {
  file: string;
  label: string;
  /** One string per page. */
  pages: string[];
}

const garciaRecord: SampleText = {
  file: "garcia_clinic_visit.pdf",
  label: "Medical Record",
  pages: [
    `RIVERSIDE FAMILY HEALTH CENTER
Outpatient Medical Record

Patient: Maria Garcia        DOB: 04/12/1979        Medical Record Number: 448-2291
Date of service: 03/14/2024   Provider: Alan Chu, MD

Chief complaint: "lower back pain after a fall at work"

History of present illness: 44-year-old woman who slipped on a wet floor at her workplace on
03/11/2024 and landed on her buttocks. Pain is constant, 6/10, worse with bending, radiating to the
left thigh. No numbness, no bowel or bladder changes.

Examination: Tenderness over L4-L5 paraspinal muscles. Straight-leg raise negative bilaterally.
Strength 5/5 in both lower extremities. Reflexes symmetric.`,
    `Assessment: Acute lumbar strain (S39.012A). No red flags.

Plan:
1. Naproxen 500 mg twice daily with food for 10 days.
2. Physical therapy, 2 sessions a week for 4 weeks.
3. Light duty at work, no lifting over 10 kg, for 2 weeks.
4. Return in 3 weeks, sooner if numbness or weakness develops.

Electronically signed by Alan Chu, MD on 03/14/2024 16:42.`,
  ],
};

const hospitalStatement: SampleText = {
  file: "st_marys_statement.pdf",
  label: "Bill",
  pages: [
    `ST. MARY'S REGIONAL HOSPITAL - PATIENT ACCOUNT STATEMENT

Bill To: Maria Garcia, 18 Alder Lane, Riverside, CA 92501
Account number: 7730-11842        Statement date: 04/02/2024

Date        Code    Description                         Charges
03/11/2024  99284   Emergency department visit, level 4  1,240.00
03/11/2024  72100   X-ray lumbar spine, 2-3 views           310.00
03/11/2024  J1885   Ketorolac injection, 15 mg               42.50
03/11/2024  96372   Injection administration                 85.00

Total charges                                              1,677.50
Insurance payments                                          -912.40
Adjustments                                                 -215.10
AMOUNT DUE                                                   550.00

Please pay by 05/02/2024. Questions about this statement: call 951-555-0142.`,
  ],
};

const complaint: SampleText = {
  file: "complaint_garcia_v_brightway.pdf",
  label: "Pleading",
  pages: [
    `SUPERIOR COURT OF THE STATE OF CALIFORNIA
FOR THE COUNTY OF RIVERSIDE

MARIA GARCIA,                                  Case No. RIC2400917
          Plaintiff,
     v.                                        COMPLAINT FOR DAMAGES
BRIGHTWAY GROCERS, INC.,                       1. Negligence
          Defendant.                           2. Premises Liability

ELECTRONICALLY FILED - pleading received by the Clerk of the Court on 05/20/2024

Plaintiff alleges:
1. Plaintiff is an individual residing in Riverside County.
2. Defendant owns and operates the store at 400 Main Street, Riverside.
3. On March 11, 2024, Defendant allowed a wet floor to remain in aisle 7 without a warning sign.`,
    `4. Plaintiff slipped and fell, injuring her lower back, and incurred hospital expenses and lost wages.

FIRST CAUSE OF ACTION - NEGLIGENCE
5. Defendant owed Plaintiff a duty of reasonable care and breached that duty.

PRAYER FOR RELIEF
WHEREFORE, Plaintiff prays for judgment against Defendant for general damages, special damages
according to proof, costs of suit, and such other relief as the Court deems proper.

Dated: May 20, 2024                  LAW OFFICE OF DANA PRICE
                                     By: Dana Price, Attorney for Plaintiff`,
  ],
};

/** A motion saved under an invoice's name: the content, not the file name, must decide. */
const motionNamedInvoice: SampleText = {
  file: "invoice_final.pdf",
  label: "Pleading",
  pages: [
    `SUPERIOR COURT OF THE STATE OF CALIFORNIA, COUNTY OF RIVERSIDE

MARIA GARCIA v. BRIGHTWAY GROCERS, INC.          Case No. RIC2400917

NOTICE OF MOTION AND MOTION TO COMPEL FURTHER RESPONSES TO REQUESTS FOR PRODUCTION, SET ONE
Hearing: September 12, 2024, 8:30 a.m., Department 4

ELECTRONICALLY FILED - pleading received by the Clerk of the Court on 08/01/2024

TO DEFENDANT AND ITS COUNSEL: Plaintiff will move the Court for an order compelling
Defendant to produce the store's floor inspection logs and surveillance video for March 11, 2024,
and for monetary sanctions of 1,500.00 under Code of Civil Procedure section 2031.310.

MEMORANDUM OF POINTS AND AUTHORITIES
Defendant's responses consist of boilerplate objections. The logs are directly relevant to notice.

Dated: August 1, 2024                By: Dana Price, Attorney for Plaintiff`,
  ],
};

const incidentReport: SampleText = {
  file: "exhibit_12_incident_report.pdf",
  label: "Documentary Evidence",
  pages: [
    `EXHIBIT 12
Documentary evidence produced by Defendant - Bates BRW-000341

BRIGHTWAY GROCERS - STORE INCIDENT REPORT
Store: #118, 400 Main Street, Riverside      Date/time of incident: 03/11/2024 10:05

Description: Customer fell in aisle 7 near the dairy cooler. Floor was wet from a leaking cooler
line. Cone "had been moved to aisle 6" per stocking clerk. Customer said she hurt her back.
Ambulance declined; customer left by private car.

Witnesses: J. Ortiz (clerk), T. Nguyen (customer)
Photos taken: 4 (attached as 12-A to 12-D)
Completed by: R. Patel, Store Manager`,
  ],
};

const scannedLabReport = {
  file: "scanned_lab_report.pdf",
  label: "Medical Record",
  lines: [
    "RIVERSIDE DIAGNOSTIC LABORATORY",
    "Patient: GARCIA, MARIA     DOB 04/12/1979",
    "Collected 03/15/2024 08:10   Ordered by: A. Chu, MD",
    "",
    "TEST                 RESULT    REF RANGE",
    "WBC                  7.2       4.0-11.0",
    "Hemoglobin           13.1      12.0-15.5",
    "CRP                  4.8 H     0.0-3.0",
    "Creatinine           0.82      0.57-1.00",
    "",
    "Comment: mildly raised CRP, consistent with soft-tissue injury.",
    "Verified by: L. Moreno, MT(ASCP)",
  ],
};

const receiptImage = {
  file: "pharmacy_receipt.png",
  label: "Bill",
  lines: [
    "RIVERSIDE PHARMACY #22",
    "03/14/2024  14:31",
    "",
    "NAPROXEN 500MG TAB x20      18.40",
    "LUMBAR SUPPORT BELT         34.99",
    "SUBTOTAL                    53.39",
    "TAX                          3.67",
    "TOTAL DUE                   57.06",
    "VISA ****4410 APPROVED",
  ],
};

const adjusterLetter: SampleText = {
  file: "letter_to_adjuster.txt",
  label: "Correspondence",
  pages: [
    `LAW OFFICE OF DANA PRICE
220 Orange Street, Riverside, CA 92501

June 3, 2024

Ms. Karen Holt, Claims Adjuster
Pacific Mutual Insurance
Claim No. PM-55-20931

Dear Ms. Holt,

Thank you for your correspondence of May 28 asking for an update on my client's treatment.
Ms. Garcia completed physical therapy on April 30 and has been released to full duty. I will send
the remaining treatment documentation and wage-loss figures by the end of the month, after which
we expect to make a settlement demand.

Please direct all further contact about this claim to my office rather than to Ms. Garcia.

Sincerely,
Dana Price`,
  ],
};

const followUpEmail: SampleText = {
  file: "email_follow_up.md",
  label: "Correspondence",
  pages: [
    `**From:** Dana Price <dprice@pricelaw.example>
**To:** Sam Lee <slee@brightwaylegal.example>
**Date:** August 15, 2024
**Subject:** Garcia v. Brightway - meet and confer

Sam,

Following up on our correspondence last week about the surveillance video. We are still willing to
take the motion off calendar if the footage and the inspection logs arrive by August 30.

Please let me know by Friday whether your client agrees.

Best regards,
Dana`,
  ],
};

const witnessStatement: SampleText = {
  file: "witness_statement_nguyen.txt",
  label: "Documentary Evidence",
  pages: [
    `STATEMENT OF THANH NGUYEN
Taken 03/19/2024 by investigator M. Brooks; offered in evidence as Exhibit 14.

I was shopping at Brightway on Main Street on March 11 at about 10 in the morning. I saw a puddle in
front of the dairy cooler in aisle 7 and there was no cone there. A woman in a blue coat walked
around the corner, slipped and fell backwards. She said "my back, my back" and could not get up
for a few minutes. A clerk came and said the cooler had been leaking since the morning.

I declare that this statement is true to the best of my knowledge.
Signed: Thanh Nguyen`,
  ],
};

const newsletter: SampleText = {
  file: "office_newsletter.txt",
  label: "Other",
  pages: [
    `PRICE LAW - OFFICE NEWSLETTER, SUMMER 2024

Welcome to our two new paralegals, Jordan and Priya!

The kitchen will be repainted on July 12; please take your lunch to the conference room that day.
The summer picnic is at Fairmount Park on August 3, with games, a raffle and other fun for families.

Reminder: the parking garage gate code changes on the first of every month.`,
  ],
};

const VISIT_TYPES = ["Physical therapy visit", "Follow-up visit", "Nursing phone note", "Imaging review"];
const PAIN_SCORES = [6, 6, 5, 5, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1];

/** A 16-page chart, far over 4096 tokens: only head and tail fit a small context. */
function longRecordPages(): string[] {
  const first = `RIVERSIDE ORTHOPEDIC AND SPINE GROUP
Complete Medical Record - Release to Law Office of Dana Price

Patient: Maria Garcia      DOB: 04/12/1979      Medical Record Number: 448-2291
Records period: 03/18/2024 - 06/10/2024     Pages: ${PAIN_SCORES.length + 2}

Initial orthopedic consultation, 03/18/2024. Referred by Alan Chu, MD, for lumbar pain after a fall
on 03/11/2024. Chief complaint: "pain in the lower back going down the left leg".
Exam: antalgic gait, lumbar flexion limited to 40 degrees, tenderness at L4-L5, straight-leg raise
positive on the left at 60 degrees. Sensation intact. MRI ordered.`;
  const middle = PAIN_SCORES.map((pain, i) => {
    const day = 20 + i * 6;
    const date = new Date(Date.UTC(2024, 2, day)).toISOString().slice(0, 10);
    const type = VISIT_TYPES[i % VISIT_TYPES.length];
    return `${type}, ${date}.
Subjective: patient reports pain ${pain}/10, sleeping ${6 + (i % 3)} hours, tolerating home exercise program.
She walks ${10 + i * 5} minutes a day and sits for up to ${20 + i * 5} minutes before needing to stand.
Objective: lumbar flexion ${40 + i * 4} degrees, extension ${10 + i} degrees, side bending symmetric.
Core endurance hold ${15 + i * 5} seconds. Gait ${pain > 3 ? "mildly antalgic" : "normal"}. Neurovascular intact.
Treatment today: manual therapy to lumbar paraspinals, McKenzie extension exercises, hip strengthening
with bands, education on lifting mechanics and posture at work; heat for 10 minutes at the end.
Assessment: ${pain > 3 ? "improving slowly; continue current plan" : "good progress toward goals"}.
Plan: continue twice weekly; progress resistance; review home program; recheck range of motion.
Medications: naproxen as needed, ${pain > 4 ? "cyclobenzaprine at night" : "no muscle relaxant"}.
Notes: patient asked about return to full duty; discussed graded return over two to three weeks.
Goals: sit ${60 + i * 10} minutes without pain, lift ${5 + i} kg from floor to waist, walk 45 minutes daily.
Progress toward goals is reviewed every fourth visit and reported to the referring physician.
Therapist: K. Alvarez, DPT. Co-signed by supervising physician where required by policy.`;
  });
  const last = `Discharge summary, 06/10/2024.
Diagnosis: lumbar strain with left L5 radiculopathy, resolved. MRI 03/25/2024: small L4-L5 disc
bulge without nerve compression. Course: 22 therapy visits, pain from 6/10 to 1/10.
Condition at discharge: full range of motion, normal gait, released to full duty without limits.
Follow-up as needed.

Certified true and complete copy of the medical record.
Custodian of records: Helen Park, Health Information Management, 06/14/2024.`;
  return [first, ...middle, last];
}

const longRecord: SampleText = {
  file: "long_medical_record.pdf",
  label: "Medical Record",
  pages: longRecordPages(),
};

export const TEXT_PDF_SAMPLES: SampleText[] = [
  garciaRecord,
  longRecord,
  hospitalStatement,
  complaint,
  motionNamedInvoice,
  incidentReport,
];
export const PLAIN_TEXT_SAMPLES: SampleText[] = [adjusterLetter, followUpEmail, witnessStatement, newsletter];
export const SCANNED_PDF_SAMPLE = scannedLabReport;
export const IMAGE_SAMPLE = receiptImage;
