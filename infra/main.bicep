// Skills Link on Azure Functions Flex Consumption, deployed with `azd up`.
// Storage is reached with a user-assigned managed identity only (no keys), App Service
// Authentication sits in front and signs in with that identity as the app
// registration's federated credential (no client secret anywhere), and telemetry goes
// to Application Insights with Microsoft Entra authentication.
//
// azd substitutes every ${VAR} of main.parameters.json raw and then parses JSON, so
// each parameter it carries is one line: program keys travel as base64 of their PEM
// text (tests/unit/test_azd_parameters.py reads the file the way azd does).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to name and tag every resource.')
param environmentName string

@minLength(1)
@description('Azure region for every resource: one where Flex Consumption runs.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Client id of the multi-tenant Microsoft Entra app registration that signs people in.')
param authClientId string

@description('Object id of the person running azd (AZURE_PRINCIPAL_ID): gets the table, queue and blob data roles for the by-hand steps of the runbook. Empty: nobody does.')
param principalId string = ''

@description('Put the storage account behind private endpoints (blob, queue, table) with public network access off, and integrate the function app into the virtual network.')
param vnetEnabled bool = false

@description('Issuer of Microsoft Learn assertions (LEARN_ISSUER).')
param learnIssuer string

@description('Public key(s) of Microsoft Learn: base64 of the PEM text (one line), several blocks during a key rotation (LEARN_PUBLIC_KEY).')
param learnPublicKey string

@description('Issuer of Partner University assertions (PARTNER_UNIVERSITY_ISSUER).')
param partnerUniversityIssuer string

@description('Public key(s) of Partner University: base64 of the PEM text (PARTNER_UNIVERSITY_PUBLIC_KEY).')
param partnerUniversityPublicKey string

@description('Audience both programs put in their assertions (ASSERTION_AUDIENCE).')
param assertionAudience string

@description('Where the portal sends a person to sign in to Microsoft Learn (LEARN_SIGN_IN_URL).')
param learnSignInUrl string = ''

@description('Where the portal sends a person to sign in to Partner University (PARTNER_UNIVERSITY_SIGN_IN_URL).')
param partnerUniversitySignInUrl string = ''

@description('Rule 6: association starts allowed in any window.')
param associationMaxPerWindow int = 3

@description('Rule 6: the window, ISO 8601.')
param associationWindow string = 'P365D'

@description('Rule 6: the cool-off between starts, ISO 8601.')
param associationCoolOff string = 'P30D'

@description('Rule 7: the delay before credit, ISO 8601.')
param creditDelay string = 'P10D'

var abbreviation = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-skills-${abbreviation}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${abbreviation}'
    location: location
    tags: tags
    vnetEnabled: vnetEnabled
  }
}

module network 'app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-${abbreviation}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${abbreviation}'
    applicationInsightsName: 'appi-${abbreviation}'
    location: location
    tags: tags
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: identity.outputs.principalId
    operatorPrincipalId: principalId
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    planName: 'plan-${abbreviation}'
    appName: 'func-skills-${abbreviation}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    authClientId: authClientId
    appSubnetId: vnetEnabled ? network.outputs.appSubnetId : ''
    learnIssuer: learnIssuer
    learnPublicKey: learnPublicKey
    partnerUniversityIssuer: partnerUniversityIssuer
    partnerUniversityPublicKey: partnerUniversityPublicKey
    assertionAudience: assertionAudience
    learnSignInUrl: learnSignInUrl
    partnerUniversitySignInUrl: partnerUniversitySignInUrl
    associationMaxPerWindow: associationMaxPerWindow
    associationWindow: associationWindow
    associationCoolOff: associationCoolOff
    creditDelay: creditDelay
  }
  dependsOn: [
    rbac
    network
  ]
}

var appHost = 'func-skills-${abbreviation}.azurewebsites.net'

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
// What the app registration needs (README "Deploy to Azure", prerequisites): the
// redirect URI, and the federated credential that lets the app's identity stand in
// for a client secret.
output AUTH_REDIRECT_URI string = 'https://${appHost}/.auth/login/aad/callback'
output AUTH_FEDERATED_CREDENTIAL_ISSUER string = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
output AUTH_FEDERATED_CREDENTIAL_SUBJECT string = identity.outputs.principalId
output AUTH_FEDERATED_CREDENTIAL_AUDIENCE string = 'api://AzureADTokenExchange'
