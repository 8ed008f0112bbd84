// Client-side form rules generated from the request schemas of the gateway's OpenAPI document
// (src/api/openapi.json): the same limits the API enforces — required fields, lengths, enums,
// number ranges, list sizes, e-mail and date formats — as async-validator rules, the shape
// Element Plus's el-form takes. Pure: the schemas are passed in. The API stays the judge: its
// field errors are shown next to the field too (core/fieldErrors.ts).
import type { Locale } from './errors'

export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  enum?: unknown[]
  maxLength?: number
  minLength?: number
  maximum?: number
  minimum?: number
  exclusiveMaximum?: number
  exclusiveMinimum?: number
  maxItems?: number
  minItems?: number
  pattern?: string
  format?: string
  $ref?: string
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
}

/** One async-validator rule (the subset we generate). */
export interface Rule {
  required?: boolean
  type?: 'string' | 'number' | 'integer' | 'array' | 'email' | 'boolean' | 'enum' | 'date'
  max?: number
  min?: number
  len?: number
  pattern?: RegExp
  enum?: unknown[]
  message: string
  trigger: string | string[]
  validator?: (rule: unknown, value: unknown, callback: (error?: Error) => void) => void
}

export type Rules = Record<string, Rule[]>

const TEXT: Record<Locale, Record<string, (n?: number | string) => string>> = {
  'zh-CN': {
    required: () => '必填',
    maxLength: (n) => `最多 ${n} 个字符`,
    minLength: (n) => `至少 ${n} 个字符`,
    maximum: (n) => `不能大于 ${n}`,
    minimum: (n) => `不能小于 ${n}`,
    maxItems: (n) => `最多 ${n} 项`,
    minItems: (n) => `至少 ${n} 项`,
    enum: () => '不是可选的值',
    email: () => '不是有效的电子邮箱',
    date: () => '日期格式应为 YYYY-MM-DD',
    pattern: () => '格式不正确',
    integer: () => '请输入整数',
    number: () => '请输入数字',
  },
  en: {
    required: () => 'Required',
    maxLength: (n) => `At most ${n} characters`,
    minLength: (n) => `At least ${n} characters`,
    maximum: (n) => `At most ${n}`,
    minimum: (n) => `At least ${n}`,
    maxItems: (n) => `At most ${n} items`,
    minItems: (n) => `At least ${n} items`,
    enum: () => 'Not one of the choices',
    email: () => 'Not an e-mail address',
    date: () => 'A date as YYYY-MM-DD',
    pattern: () => 'Wrong format',
    integer: () => 'A whole number',
    number: () => 'A number',
  },
}

export function resolve(schema: JsonSchema | undefined, components: Record<string, JsonSchema> = {}, depth = 0): JsonSchema {
  if (!schema || depth > 8) return {}
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/components\/schemas\//, '')
    return resolve(components[name], components, depth + 1)
  }
  const alt = schema.anyOf ?? schema.oneOf
  if (alt) {
    // nullable forms (X | null): the non-null branch carries the limits
    const real = alt.filter((s) => s.type !== 'null')
    if (real.length === 1) return resolve(real[0], components, depth + 1)
  }
  if (schema.allOf?.length === 1) return resolve(schema.allOf[0], components, depth + 1)
  return schema
}

function types(s: JsonSchema): string[] {
  return Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
}

const empty = (v: unknown) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)

function rulesOf(s: JsonSchema, required: boolean, locale: Locale): Rule[] {
  const t = TEXT[locale]
  const ty = types(s)
  const out: Rule[] = []
  const trigger = ['blur', 'change']
  if (required) {
    // whitespace alone is not an answer (the services strip before they check)
    out.push({
      required: true,
      message: t.required(),
      trigger,
      validator: (_r, v, cb) => cb(empty(typeof v === 'string' ? v.trim() : v) ? new Error(t.required()) : undefined),
    })
  }
  if (ty.includes('string') || (!ty.length && (s.maxLength !== undefined || s.minLength !== undefined))) {
    if (s.maxLength !== undefined) out.push({ type: 'string', max: s.maxLength, message: t.maxLength(s.maxLength), trigger })
    if (s.minLength !== undefined && s.minLength > 1) out.push({ type: 'string', min: s.minLength, message: t.minLength(s.minLength), trigger })
    if (s.pattern) {
      try {
        out.push({ type: 'string', pattern: new RegExp(s.pattern, 'u'), message: t.pattern(), trigger })
      } catch {
        /* a pattern JavaScript cannot read: the API still checks it */
      }
    }
    if (s.format === 'email') out.push({ type: 'email', message: t.email(), trigger })
    if (s.format === 'date') out.push({ type: 'string', pattern: /^\d{4}-\d{2}-\d{2}$/, message: t.date(), trigger })
  }
  if (ty.includes('integer') || ty.includes('number')) {
    const integer = ty.includes('integer') && !ty.includes('number')
    const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum : undefined)
    const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum : undefined)
    out.push({
      message: integer ? t.integer() : t.number(),
      trigger,
      validator: (_r, v, cb) => {
        if (empty(v)) return cb()
        const n = typeof v === 'number' ? v : Number(v)
        if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) return cb(new Error(integer ? t.integer() : t.number()))
        if (lo !== undefined && (s.exclusiveMinimum !== undefined && s.minimum === undefined ? n <= lo : n < lo)) return cb(new Error(t.minimum(lo)))
        if (hi !== undefined && (s.exclusiveMaximum !== undefined && s.maximum === undefined ? n >= hi : n > hi)) return cb(new Error(t.maximum(hi)))
        cb()
      },
    })
  }
  if (ty.includes('array') && (s.maxItems !== undefined || (s.minItems !== undefined && s.minItems > 1))) {
    // only a list is counted: a form that types a list as text (numbers separated by commas)
    // checks that text itself
    const { maxItems: most, minItems: least } = s
    out.push({
      message: most !== undefined ? t.maxItems(most) : t.minItems(least),
      trigger,
      validator: (_r, v, cb) => {
        if (!Array.isArray(v)) return cb()
        if (most !== undefined && v.length > most) return cb(new Error(t.maxItems(most)))
        if (least !== undefined && least > 1 && v.length < least) return cb(new Error(t.minItems(least)))
        cb()
      },
    })
  }
  if (s.enum && !ty.includes('array')) {
    const choices = s.enum
    out.push({
      message: t.enum(),
      trigger,
      validator: (_r, v, cb) => cb(empty(v) || choices.includes(v) ? undefined : new Error(t.enum())),
    })
  }
  return out
}

/**
 * Rules for every property of an object schema (nested objects as dotted paths, the way
 * el-form-item's `prop` names them). `only` limits them to the fields a form shows;
 * `require` adds fields the form needs although the schema leaves them optional.
 */
export function rulesFromSchema(
  schema: JsonSchema | undefined,
  locale: Locale,
  opts: { components?: Record<string, JsonSchema>; only?: readonly string[]; require?: readonly string[] } = {},
): Rules {
  const out: Rules = {}
  // a nested object's required fields count only when the object itself is required
  const walk = (s: JsonSchema, prefix: string, depth: number, present: boolean) => {
    const obj = resolve(s, opts.components)
    const required = new Set(obj.required ?? [])
    for (const [name, raw] of Object.entries(obj.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name
      const prop = resolve(raw, opts.components)
      const req = (required.has(name) && present) || !!opts.require?.includes(path)
      if (types(prop).includes('object') && prop.properties && depth < 4) walk(prop, path, depth + 1, req)
      if (opts.only && !opts.only.includes(path)) continue
      const rules = rulesOf(prop, req, locale)
      if (rules.length) out[path] = rules
    }
  }
  if (schema) walk(schema, '', 0, true)
  for (const path of opts.require ?? []) {
    if (!out[path]?.some((r) => r.required) && (!opts.only || opts.only.includes(path))) {
      out[path] = [...rulesOf({}, true, locale), ...(out[path] ?? [])]
    }
  }
  return out
}
