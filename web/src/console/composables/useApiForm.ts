// A console form's two guards: rules generated from the request's OpenAPI schema (the same
// limits the API enforces, core/schemaRules.ts) and, after a refusal, the API's own field
// errors next to their fields (core/fieldErrors.ts). An error goes away when its field changes.
//
//   const form = useApiForm({ model, schema: 'EmployeeIn', props: ['name', 'mobile', 'dept_ids'] })
//   <el-form ref="formRef" :model="model" :rules="form.rules.value">
//     <el-form-item prop="name" :error="form.errors.name"> …
//   const ok = await form.submit(formRef.value, () => api.createEmployee(model))
import { computed, reactive, ref, watch, type ComputedRef, type Ref } from 'vue'
import { components } from '@/api/openapi.json'
import { ApiError } from '@/api/client'
import { errorsByProp } from '@/core/fieldErrors'
import { rulesFromSchema, type JsonSchema, type Rules } from '@/core/schemaRules'
import { currentLocale, i18n } from '@/i18n'
import { notifyWarning, toastError } from './feedback'

const SCHEMAS = components.schemas as unknown as Record<string, JsonSchema>

/** a schema of the OpenAPI document: a renamed or removed model fails the type check */
export type SchemaName = keyof typeof components.schemas

export function requestSchema(name: SchemaName): JsonSchema | undefined {
  return SCHEMAS[name]
}

/** The piece of Element Plus's form instance we use. */
export interface FormLike {
  validate: () => Promise<boolean>
  clearValidate?: (props?: string | string[]) => void
  scrollToField?: (prop: string) => void
}

export interface ApiFormOptions {
  model: Record<string, unknown>
  /** name of the request schema in the OpenAPI document (components.schemas) */
  schema?: SchemaName
  /** the form items (el-form-item `prop`s) this form shows */
  props: readonly string[]
  /** the items whose rules come from the schema (default: all of `props`); items whose model
   *  differs from the request (a comma-separated text for a list) check themselves in `extra` */
  validate?: readonly string[]
  /** fields the form needs although the schema leaves them optional */
  require?: readonly string[]
  /** rules of the form's own, added to the generated ones */
  extra?: () => Rules
}

export interface ApiForm {
  rules: ComputedRef<Rules>
  /** the API's message per form item ('' = none) */
  errors: Record<string, string>
  /** field errors no form item shows (kept, not lost) */
  other: Ref<string[]>
  busy: Ref<boolean>
  /** show an API refusal: field errors next to fields (true), else a toast (false) */
  show: (err: unknown) => boolean
  clear: () => void
  /** validate, run the action, show what the API refused; the action's answer or undefined */
  submit: <R>(form: FormLike | undefined | null, action: () => Promise<R>) => Promise<R | undefined>
}

function read(model: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), model)
}

export function useApiForm(opts: ApiFormOptions): ApiForm {
  const errors = reactive<Record<string, string>>(Object.fromEntries(opts.props.map((p) => [p, ''])))
  const other = ref<string[]>([])
  const busy = ref(false)
  const rules = computed<Rules>(() => {
    const generated = rulesFromSchema(opts.schema ? SCHEMAS[opts.schema] : undefined, currentLocale(), {
      components: SCHEMAS,
      only: opts.validate ?? opts.props,
      require: opts.require,
    })
    const own = opts.extra?.() ?? {}
    const out: Rules = { ...generated }
    for (const [k, v] of Object.entries(own)) out[k] = [...(out[k] ?? []), ...v]
    return out
  })
  for (const prop of opts.props) {
    watch(
      () => JSON.stringify(read(opts.model, prop) ?? null),
      () => {
        errors[prop] = ''
      },
    )
  }

  function clear(): void {
    for (const p of opts.props) errors[p] = ''
    other.value = []
  }

  function show(err: unknown): boolean {
    clear()
    if (err instanceof ApiError) {
      const { byProp, other: rest } = errorsByProp(err.body, opts.props, currentLocale())
      if (Object.keys(byProp).length || rest.length) {
        Object.assign(errors, byProp)
        other.value = rest
        toastError(err)
        return true
      }
    }
    toastError(err)
    return false
  }

  async function submit<R>(form: FormLike | undefined | null, action: () => Promise<R>): Promise<R | undefined> {
    clear()
    if (form) {
      const valid = await form.validate().catch(() => false)
      if (!valid) {
        notifyWarning(i18n.global.t('console.shell.form.fixErrors'))
        return undefined
      }
    }
    busy.value = true
    try {
      return await action()
    } catch (err) {
      show(err)
      return undefined
    } finally {
      busy.value = false
    }
  }

  return { rules, errors, other, busy, show, clear, submit }
}
